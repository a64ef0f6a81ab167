import { readFileSync } from 'node:fs';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, NatsConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';

export function natsConnectionOptions(config: NatsConfig): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: config.servers,
    name: config.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: true,
  };
  if (config.inboxPrefix) options.inboxPrefix = config.inboxPrefix;
  if (config.user) {
    options.user = config.user;
    options.pass = config.password;
  }
  if (config.token) options.token = config.token;
  if (config.credsFile) options.authenticator = credsAuthenticator(readFileSync(config.credsFile));
  if (config.nkeySeedFile) options.authenticator = nkeyAuthenticator(readFileSync(config.nkeySeedFile, 'utf8').trim() as unknown as Uint8Array);
  if (config.tls) options.tls = { caFile: config.tls.caFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile };
  return options;
}

/** One NATS connection per process: reconnects forever, logs every state change, drains on shutdown. */
@Injectable()
export class NatsConnectionService implements OnApplicationShutdown {
  private connection?: NatsConnection;
  private connecting?: Promise<NatsConnection>;
  private jsClient?: JetStreamClient;
  private jsManager?: JetStreamManager;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly metrics: MetronomeMetrics,
  ) {}

  /** Where this process's replies arrive (NATS_INBOX_PREFIX): code that makes its own inbox uses it too. */
  get inboxPrefix(): string | undefined {
    return this.config.nats.inboxPrefix;
  }

  async connection$(): Promise<NatsConnection> {
    if (this.connection) return this.connection;
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<NatsConnection> {
    const nc = await connect(natsConnectionOptions(this.config.nats));
    this.logger.info({ server: nc.getServer() }, 'nats connected');
    this.metrics.dependencyUp.set({ dependency: 'nats' }, 1);
    void this.watchStatus(nc);
    this.connection = nc;
    return nc;
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          this.metrics.dependencyUp.set({ dependency: 'nats' }, 0);
          this.logger.warn({ server: status.server }, 'nats disconnected');
          break;
        case 'reconnect':
          this.metrics.dependencyUp.set({ dependency: 'nats' }, 1);
          this.logger.info({ server: status.server }, 'nats reconnected');
          break;
        case 'reconnecting':
          this.logger.debug('nats reconnecting');
          break;
        case 'error':
          this.logger.error({ error: String(status.error) }, 'nats server error');
          break;
        case 'ldm':
          this.logger.warn('nats server entering lame duck mode');
          break;
        case 'staleConnection':
          this.logger.warn('nats connection stale');
          break;
        default:
          break;
      }
    }
  }

  async js(): Promise<JetStreamClient> {
    if (!this.jsClient) this.jsClient = jetstream(await this.connection$(), { timeout: 10_000 });
    return this.jsClient;
  }

  async jsm(): Promise<JetStreamManager> {
    if (!this.jsManager) this.jsManager = await jetstreamManager(await this.connection$(), { timeout: 10_000 });
    return this.jsManager;
  }

  isConnected(): boolean {
    return !!this.connection && !this.connection.isClosed() && !this.connection.isDraining();
  }

  /** Round trip to the server; used by /readyz. */
  async ping(): Promise<boolean> {
    if (!this.connection || this.connection.isClosed()) return false;
    try {
      await this.connection.rtt();
      return true;
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const nc = this.connection;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
      this.logger.info('nats drained');
    } catch (e) {
      this.logger.warn({ error: String(e) }, 'nats drain failed');
    }
  }
}
