import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { MONITORED_CONSUMERS } from '../metrics/jetstream-stats.collector.js';
import { NatsConnectionService } from './nats-connection.service.js';
import { provision } from './provisioner.js';
import { CONSUMER_DECLARATIONS, KV_DECLARATIONS, STREAM_DECLARATIONS, type ConsumerDeclaration } from './topology.js';

/**
 * Provisions streams, consumers and KV buckets at start when
 * NATS_PROVISION_ON_START is on: the platform's declarations, plus the
 * consumers this service pulls that the platform does not declare (a new
 * service's `<service>-jobs-<priority>`, e.g. one using MetronomeScheduleModule).
 */
@Injectable()
export class ProvisionOnStart implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly nats: NatsConnectionService,
    @Inject(MONITORED_CONSUMERS) private readonly own: ConsumerDeclaration[] = [],
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.nats.provisionOnStart) return;
    const extra = (this.own ?? []).filter((c) => !CONSUMER_DECLARATIONS.some((d) => d.durable === c.durable));
    const report = await provision(await this.nats.jsm(), STREAM_DECLARATIONS, [...CONSUMER_DECLARATIONS, ...extra], {
      replicas: this.config.nats.streamReplicas,
      ackWaitMs: this.config.ackWaitMs,
      kv: KV_DECLARATIONS,
    });
    if (report.created.length) this.logger.info({ created: report.created }, 'provisioned JetStream objects');
    for (const d of report.drift) this.logger.warn({ object: d.name, differences: d.differences }, 'JetStream object differs from its declaration; left as it is');
  }
}
