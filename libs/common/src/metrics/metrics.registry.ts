import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-series.js';

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300];

/**
 * One registry per process holding every Metronome series. Labels are bounded:
 * job, queue, consumer, subject pattern, outcome, never a tenant id.
 */
export class MetronomeMetrics {
  readonly registry = new Registry();

  readonly handlerMessages = new Counter({
    name: 'metronome_handler_messages_total',
    help: 'Messages settled by a consumer handler, by outcome (acked, retried, dead, invalid)',
    labelNames: ['consumer', 'subject', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly handlerDuration = new Histogram({
    name: 'metronome_handler_duration_seconds',
    help: 'Handler duration by consumer, subject and outcome',
    labelNames: ['consumer', 'subject', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly handlersInFlight = new Gauge({
    name: 'metronome_handlers_in_flight',
    help: 'Handlers currently running',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });
  readonly redeliveries = new Counter({
    name: 'metronome_redeliveries_total',
    help: 'Messages received with a delivery count above one',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });
  readonly dlqMessages = new Counter({
    name: 'metronome_dlq_messages_total',
    help: 'Messages dead-lettered, by reason',
    labelNames: ['consumer', 'reason'] as const,
    registers: [this.registry],
  });
  readonly jobDeferrals = new Counter({
    name: 'metronome_job_deferrals_total',
    help: 'Job messages handed back to the stream without an attempt, by reason (tenant_full, paused, no_handler, stopping, database_unavailable, not_due)',
    labelNames: ['job', 'reason'] as const,
    registers: [this.registry],
  });
  readonly jobTimeouts = new Counter({
    name: 'metronome_job_timeouts_total',
    help: 'Job attempts aborted at their timeout (each is retried while attempts remain, and published as job.timed_out)',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  /** Counted per job by the runtime through series bound once (bound-series.ts). */
  readonly jobRuns = new BoundCounter('metronome_job_runs_total', 'Job runs finished, by outcome', ['job', 'queue', 'outcome'] as const, this.registry);
  readonly jobDuration = new BoundHistogram('metronome_job_duration_seconds', 'Job run duration', ['job', 'queue', 'outcome'] as const, DURATION_BUCKETS, this.registry);
  /** Observed per job started (and per scheduled job published) through series bound once. */
  readonly jobLateness = new BoundHistogram(
    'metronome_job_lateness_seconds',
    'Delay from scheduled time to publish (stage=published) and to handler start (stage=started)',
    ['job', 'stage'] as const,
    LATENESS_BUCKETS,
    this.registry,
  );
  readonly consumerPending = new Gauge({
    name: 'metronome_consumer_pending',
    help: 'Not yet delivered to the consumer: jobs for a JOBS consumer (estimated from a sample of its messages when job packs are present), messages for others',
    labelNames: ['stream', 'consumer'] as const,
    registers: [this.registry],
  });
  readonly consumerAckPending = new Gauge({
    name: 'metronome_consumer_ack_pending',
    help: 'Delivered and not yet acknowledged: jobs for a JOBS consumer (estimated from a sample of its messages when job packs are present), messages for others',
    labelNames: ['stream', 'consumer'] as const,
    registers: [this.registry],
  });
  readonly consumerRedelivered = new Gauge({
    name: 'metronome_consumer_redelivered',
    help: 'Messages currently redelivered and not yet acknowledged',
    labelNames: ['stream', 'consumer'] as const,
    registers: [this.registry],
  });
  readonly dlqDepth = new Gauge({
    name: 'metronome_dlq_depth',
    help: 'Messages held in the dead-letter stream',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly outboxBacklog = new Gauge({
    name: 'metronome_outbox_backlog',
    help: 'Runs planned in the outbox and not yet published',
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'metronome_queue_depth',
    help: "Jobs of a queue (priority) not yet done, from JetStream: undelivered plus delivered and unacknowledged (waiting for a slot, deferred or running), over this service's job consumers; an estimate when job packs are present (messages times the mean jobs per message of a sample)",
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly queuePaused = new Gauge({
    name: 'metronome_queue_paused',
    help: '1 when the queue is paused',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly queuePausedSince = new Gauge({
    name: 'metronome_queue_paused_since_seconds',
    help: 'Unix time the queue was paused at, 0 when running',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly schedulerFires = new Counter({
    name: 'metronome_scheduler_fires_total',
    help: 'Occurrences claimed by the scheduler, by schedule kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly schedulerActiveSchedules = new Gauge({
    name: 'metronome_scheduler_active_schedules',
    help: 'Enabled, unpaused schedules',
    registers: [this.registry],
  });
  readonly schedulerLastFire = new Gauge({
    name: 'metronome_scheduler_last_fire_timestamp_seconds',
    help: 'Unix time of the last claimed occurrence',
    registers: [this.registry],
  });
  readonly notificationDeliveries = new Counter({
    name: 'metronome_notification_deliveries_total',
    help: 'Notification deliveries by channel (in_app, email, push, webhook) and outcome (sent, retry, failed, deferred, skipped)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: 'metronome_dependency_up',
    help: '1 when the dependency (nats, postgres) is reachable',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly slaBreaches = new Counter({
    name: 'metronome_sla_breaches_total',
    help: 'SLA breaches by job and kind (duration, lateness)',
    labelNames: ['job', 'kind'] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: 'metronome_circuit_state',
    help: 'Outbound circuit state: 0 closed, 1 half-open, 2 open',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly historyRows = new Counter({
    name: 'metronome_history_rows_total',
    help: 'Finished attempts written to the run history (job_attempts)',
    registers: [this.registry],
  });
  readonly historyBatch = new Histogram({
    name: 'metronome_history_batch_seconds',
    help: 'Time to commit one batch of run history',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly statsRollupPending = new Gauge({
    name: 'metronome_job_stats_rollup_pending_batches',
    help: 'Run history batches not yet rolled into the per-minute job stats (counted on the fly until then), after the last roll-up pass',
    registers: [this.registry],
  });
  readonly statsRollupLag = new Gauge({
    name: 'metronome_job_stats_rollup_lag_seconds',
    help: 'Age of the oldest finished attempt not yet rolled into the per-minute job stats, after the last roll-up pass (0 when none)',
    registers: [this.registry],
  });
  readonly historyWriteErrors = new Counter({
    name: 'metronome_history_write_errors_total',
    help: 'Run history batches that failed and were retried (Postgres unavailable)',
    registers: [this.registry],
  });
  readonly lostAttempts = new Counter({
    name: 'metronome_job_lost_attempts_total',
    help: 'Deliveries of a job that started and never reported (worker died or stalled past the ack wait), seen on redelivery',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }
}
