import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, Type } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { AppConfig } from './config/config.schema.js';
import { ConfigValidationError, loadConfig } from './config/load-config.js';
import { createRootLogger, PinoNestLogger } from './logging/logger.js';
import { JetStreamServer } from './messaging/jetstream.server.js';
import { RethrowRpcExceptionFilter } from './messaging/rethrow-rpc.filter.js';

/** Loads the configuration or exits non-zero listing every bad key. */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigValidationError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}

export interface BootOptions {
  service: string;
  port: (config: AppConfig) => number;
  /** Set when several services share one process: the caller owns signals. */
  shutdownHooks?: boolean;
}

/**
 * Attaches the JetStream transport and starts its consumers. The rethrow filter
 * must be global before the microservice inherits the app config, or handler
 * errors reach the host as Nest's generic "Internal server error".
 */
export async function connectJetStream(app: INestApplication): Promise<void> {
  app.useGlobalFilters(new RethrowRpcExceptionFilter());
  app.connectMicroservice<MicroserviceOptions>({ strategy: app.get(JetStreamServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
}

/** Starts one service: HTTP (health, metrics, API) plus its JetStream consumers. */
export async function bootstrapService(module: Type, options: BootOptions): Promise<INestApplication> {
  const config = loadConfigOrExit();
  const logger = createRootLogger(config.logLevel, options.service);
  const app = await NestFactory.create(module, { logger: new PinoNestLogger(logger), bufferLogs: false });
  // Behind N proxies the client IP (per-IP rate limit, audit) is the Nth address from the right of X-Forwarded-For.
  if (config.api.trustProxyHops > 0) (app.getHttpAdapter().getInstance() as { set(key: string, value: unknown): void }).set('trust proxy', config.api.trustProxyHops);
  if (options.shutdownHooks !== false) app.enableShutdownHooks();
  // init first: module hooks provision streams and consumers before the transport binds to them.
  await app.init();
  await connectJetStream(app);
  const port = options.port(config);
  await app.listen(port, '0.0.0.0');
  logger.info({ port }, `${options.service} started`);
  return app;
}
