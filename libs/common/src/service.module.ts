import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConfigModule } from './config/config.module.js';
import { DATABASE_ENTITIES, DatabaseModule } from './database/database.module.js';
import type { EntityList } from './database/typeorm-options.js';
import { DeadLetterEntity } from './dead-letters/dead-letter.entity.js';
import { DeadLetterRepository } from './dead-letters/dead-letter.repository.js';
import { DeadLetterWriter } from './dead-letters/dead-letter.writer.js';
import { MaxDeliveriesWatcher } from './dead-letters/max-deliveries.watcher.js';
import { DeadJobPublisher } from './dead-letters/dead-job.publisher.js';
import { HealthController } from './health/health.controller.js';
import { LoggingModule, SERVICE_NAME } from './logging/logging.module.js';
import { ContractRegistry, type ContractClass } from './messaging/contracts/contract-registry.js';
import { MESSAGE_CONTRACTS } from './messaging/contracts/index.js';
import { EventPublisher } from './messaging/event-publisher.js';
import { JetStreamClient } from './messaging/jetstream.client.js';
import { JetStreamServer, SERVED_CONSUMERS } from './messaging/jetstream.server.js';
import { DeadLetterTools } from './jobs/dead-letter-tools.js';
import { DeadLetterToolsRepository } from './jobs/dead-letter-tools.repository.js';
import { JobControl } from './jobs/job-control.js';
import { JobRunsRepository } from './jobs/job-runs.repository.js';
import { JOB_RUNTIME_OPTIONS, JobRuntime, type JobRuntimeOptions } from './jobs/job-runtime.js';
import { HistoryRepository } from './jobs/history/history.repository.js';
import { HistoryWriter } from './jobs/history/history-writer.js';
import { AttemptLedger } from './jobs/runtime/attempt-ledger.js';
import { AttemptRunner } from './jobs/runtime/attempt-runner.js';
import { Deferrals } from './jobs/runtime/deferrals.js';
import { DeliveryRouting } from './jobs/runtime/delivery-routing.js';
import { JobIntake } from './jobs/runtime/job-intake.js';
import { FinishedRuns } from './jobs/runtime/finished-runs.js';
import { PackHandOff } from './jobs/runtime/pack-hand-off.js';
import { PackUnpacking } from './jobs/runtime/pack-unpacking.js';
import { JOB_SETTLEMENT_OBSERVERS, type JobSettlementObserver } from './jobs/runtime/job-settled.js';
import { Settlement } from './jobs/runtime/settlement.js';
import { WorkerHeartbeat } from './jobs/runtime/worker-heartbeat.js';
import { KvBuckets } from './messaging/kv-buckets.js';
import { AsyncAckPublisher } from './messaging/async-ack-publisher.js';
import { LiveRuns } from './jobs/live/live-runs.js';
import { RunCanceller } from './jobs/live/run-canceller.js';
import { NatsConnectionService } from './messaging/nats-connection.service.js';
import { ProvisionOnStart } from './messaging/provision-on-start.js';
import type { ConsumerDeclaration } from './messaging/topology.js';
import { JetStreamStatsCollector, MONITORED_CONSUMERS } from './metrics/jetstream-stats.collector.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { FieldEncryption } from './crypto/field-cipher.js';
import { CircuitBreakers } from './outbound/circuit-breaker.js';
import { FlowCoordinator } from './jobs/chains/flow-coordinator.js';
import { DurabilityHooks } from './jobs/durability/durability.service.js';
import { RetentionPurger } from './jobs/retention/retention-purger.js';
import { SlaMonitor } from './jobs/sla/sla-monitor.js';
import { JobTimeoutPublisher } from './jobs/timeouts/job-timeout.publisher.js';
import { JobStepsRepository } from './jobs/steps/job-steps.repository.js';
import { AuthGuard } from './auth/auth.guard.js';
import { CredentialVerifier } from './auth/credential-verifier.js';
import { RouteAudit } from './auth/route-audit.js';
import { AuditLog } from './audit/audit-log.js';
import { AuditRepository } from './audit/audit.repository.js';
import { AuditedRoutes } from './audit/audited-routes.js';
import { RateLimitRepository } from './http/rate-limit.repository.js';
import { RateLimiter } from './http/rate-limiter.js';
import { SseSlots } from './http/sse-slots.js';
import { JobCatalog } from './jobs/job-catalog.js';
import { TimeOverrides } from './jobs/time-overrides.js';

export interface ServiceModuleOptions {
  service: string;
  /** Durable consumers this service pulls from. */
  consumers: ConsumerDeclaration[];
  /** The TypeORM entities this service reads and writes. */
  entities: EntityList;
  providers?: Provider[];
  /** Extra message contracts beyond MESSAGE_CONTRACTS (tests, plug-ins). */
  contracts?: Record<string, ContractClass>;
  /** The job runtime (docs/jobs.md): the jobs this service handles with @JobHandler and its per-priority consumers. */
  jobs?: JobRuntimeOptions;
  /** More settlement observers (providers of this module), called after the runtime's own for each committed attempt. */
  settlementObservers?: Type<JobSettlementObserver>[];
}

@Module({})
class ServiceIdentityModule {}

/** Everything a Metronome service shares: config, logs, metrics, Postgres, NATS, transport, health. */
@Module({})
export class MetronomeServiceModule {
  static forService(options: ServiceModuleOptions): DynamicModule {
    const identity: DynamicModule = {
      module: ServiceIdentityModule,
      global: true,
      providers: [
        { provide: SERVICE_NAME, useValue: options.service },
        { provide: SERVED_CONSUMERS, useValue: options.consumers },
        { provide: MONITORED_CONSUMERS, useValue: [...options.consumers, ...(options.jobs?.consumers ?? [])] },
        { provide: DATABASE_ENTITIES, useValue: [DeadLetterEntity, ...(options.entities as Type[])] },
      ],
      exports: [SERVICE_NAME, SERVED_CONSUMERS, MONITORED_CONSUMERS, DATABASE_ENTITIES],
    };
    const shared: Type[] = [
      NatsConnectionService,
      KvBuckets,
      AsyncAckPublisher,
      HistoryRepository,
      LiveRuns,
      RunCanceller,
      EventPublisher,
      JetStreamClient,
      DeadLetterRepository,
      DeadJobPublisher,
      DeadLetterWriter,
      MaxDeliveriesWatcher,
      JetStreamServer,
      ProvisionOnStart,
      JetStreamStatsCollector,
      JobRunsRepository,
      JobControl,
      DeadLetterToolsRepository,
      DeadLetterTools,
      FieldEncryption,
      CircuitBreakers,
      JobStepsRepository,
      RetentionPurger,
      // HTTP identity (docs/control-plane.md): every service's API authenticates the same way.
      CredentialVerifier,
      RateLimitRepository,
      RateLimiter,
      AuthGuard,
      SseSlots,
      // One audit log for every service's changes (libs/common/src/audit), written in the change's transaction.
      AuditRepository,
      AuditLog,
      JobCatalog,
      TimeOverrides,
    ];
    const runtime: Provider[] = options.jobs
      ? [
          { provide: JOB_RUNTIME_OPTIONS, useValue: options.jobs },
          HistoryWriter,
          AttemptLedger,
          Deferrals,
          WorkerHeartbeat,
          AttemptRunner,
          Settlement,
          JobIntake,
          DeliveryRouting,
          FinishedRuns,
          PackHandOff,
          PackUnpacking,
          JobRuntime,
          SlaMonitor,
          JobTimeoutPublisher,
          FlowCoordinator,
          DurabilityHooks,
          // Observers see an attempt after its history row is committed: a flow's child is settled before its parent is evaluated.
          ...(options.settlementObservers ?? []),
          {
            provide: JOB_SETTLEMENT_OBSERVERS,
            inject: [FlowCoordinator, ...(options.settlementObservers ?? [])],
            useFactory: (...observers: JobSettlementObserver[]) => observers,
          },
        ]
      : [];
    return {
      module: MetronomeServiceModule,
      global: true,
      imports: [
        identity,
        ConfigModule,
        LoggingModule,
        MetricsModule,
        DatabaseModule.forRoot(),
        DiscoveryModule,
      ],
      controllers: [HealthController],
      providers: [...shared, { provide: ContractRegistry, useFactory: () => new ContractRegistry({ ...MESSAGE_CONTRACTS, ...(options.contracts ?? {}) }) }, RouteAudit, AuditedRoutes, ...runtime, ...(options.providers ?? [])],
      exports: [...shared, ContractRegistry, DatabaseModule, ...(options.jobs ? [JobRuntime, HistoryWriter, WorkerHeartbeat] : [])],
    };
  }
}
