import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { CONSUMERS, CONTROL_BUCKET, EVENT_TYPES, JOB_CATALOG_BUCKET, PRIORITIES, RUNS_BUCKET, WORKERS_BUCKET, STREAMS, STREAM_SUBJECTS, subjects, type ConsumerName, type Priority, type StreamName } from './subjects.js';

export interface StreamDeclaration {
  name: StreamName;
  subjects: string[];
  /**
   * limits: messages stay until max age (events, dead letters: replayable);
   * workqueue: a message is removed once acked, so the stream holds exactly
   * the jobs still waiting or running (each job subject has one consumer).
   */
  retention: 'limits' | 'workqueue';
  /** Direct get (any replica answers): how waiting jobs are read for listing without a consumer. */
  allowDirect?: boolean;
  /** Max age of a message in the stream. */
  maxAgeMs: number;
  /** Dedup window for Nats-Msg-Id. */
  duplicateWindowMs: number;
  maxMsgBytes: number;
}

export interface ConsumerDeclaration {
  stream: StreamName;
  durable: ConsumerName | string;
  /** One subject filter: nats-server 2.9 has no multi-filter consumers. */
  filterSubject: string;
  /** Attempts before a failing message is dead-lettered. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Handlers running at once in one process. */
  concurrency: number;
  /** Overrides the configured ack wait. */
  ackWaitMs?: number;
  /** Overrides max_deliver (default maxAttempts + 1); -1: unlimited (the job runtime counts attempts itself). */
  maxDeliver?: number;
  /** Overrides max_ack_pending (default max(1000, concurrency * 20)). */
  maxAckPending?: number;
}

const DAY = 24 * 3600_000;

export const STREAM_DECLARATIONS: StreamDeclaration[] = [
  { name: STREAMS.EVENTS, subjects: STREAM_SUBJECTS.EVENTS, retention: 'limits', maxAgeMs: 7 * DAY, duplicateWindowMs: 2 * 60_000, maxMsgBytes: 1024 * 1024 },
  { name: STREAMS.JOBS, subjects: STREAM_SUBJECTS.JOBS, retention: 'workqueue', allowDirect: true, maxAgeMs: 7 * DAY, duplicateWindowMs: 2 * 60_000, maxMsgBytes: 1024 * 1024 },
  { name: STREAMS.DLQ, subjects: STREAM_SUBJECTS.DLQ, retention: 'limits', maxAgeMs: 30 * DAY, duplicateWindowMs: 2 * 60_000, maxMsgBytes: 2 * 1024 * 1024 },
];

/** A JetStream KV bucket (stream `KV_<bucket>`); its replicas follow STREAM_REPLICAS like the streams. */
export interface KvDeclaration {
  bucket: string;
  /** Values kept per key. */
  history: number;
  /** Entries older than this are removed (0: kept). */
  maxAgeMs: number;
}

/** How long a worker's heartbeat stays listed after its last beat. */
export const WORKER_HEARTBEAT_TTL_MS = 30_000;

export const KV_DECLARATIONS: KvDeclaration[] = [
  // Pauses the job runtime's workers watch (libs/common/src/jobs/job-control.ts).
  { bucket: CONTROL_BUCKET, history: 1, maxAgeMs: 0 },
  // Cancellations and attempt ledgers, as long as the job messages they describe can live.
  { bucket: RUNS_BUCKET, history: 1, maxAgeMs: 7 * DAY },
  { bucket: WORKERS_BUCKET, history: 1, maxAgeMs: WORKER_HEARTBEAT_TTL_MS },
  // Each service's job declarations (platform, tenantSchedulable, ...), read by the scheduler (jobs/job-catalog.ts).
  { bucket: JOB_CATALOG_BUCKET, history: 1, maxAgeMs: 0 },
];

export const CONSUMER_DECLARATIONS: ConsumerDeclaration[] = [
  // documents' jobs (tick, expiry scans) run on the job runtime: documents-jobs-{critical,high,normal,low}.
  ...jobConsumerDeclarations('documents'),
  {
    stream: STREAMS.EVENTS,
    durable: CONSUMERS.documentsEvents,
    filterSubject: subjects.eventsOfType('document.>'),
    maxAttempts: 5,
    backoff: DEFAULT_BACKOFF,
    concurrency: 16,
  },
  {
    // The tenant registry's announcements: documents reads each tenant's timezone from them.
    stream: STREAMS.EVENTS,
    durable: CONSUMERS.documentsTenants,
    filterSubject: subjects.eventsOfType(EVENT_TYPES.tenantUpserted),
    maxAttempts: 5,
    backoff: DEFAULT_BACKOFF,
    concurrency: 4,
  },
  // recurrence's jobs (generation, reminders, cleanup) run on the job runtime: recurrence-jobs-{critical,high,normal,low}.
  ...jobConsumerDeclarations('recurrence'),
  {
    stream: STREAMS.EVENTS,
    durable: CONSUMERS.recurrenceEvents,
    filterSubject: 'events.>',
    maxAttempts: 5,
    backoff: DEFAULT_BACKOFF,
    concurrency: 16,
  },
  {
    stream: STREAMS.EVENTS,
    durable: CONSUMERS.notifierEvents,
    filterSubject: 'events.>',
    maxAttempts: 8,
    backoff: DEFAULT_BACKOFF,
    concurrency: 32,
  },
  // notifier's jobs (deliveries, digests, alert summaries) run on the job runtime: notifier-jobs-{critical,high,normal,low}.
  ...jobConsumerDeclarations('notifier'),
  {
    // Event-triggered schedules: any domain event type may start a job.
    stream: STREAMS.EVENTS,
    durable: CONSUMERS.schedulerEvents,
    filterSubject: 'events.>',
    maxAttempts: 8,
    backoff: DEFAULT_BACKOFF,
    concurrency: 32,
  },
  // The scheduler's own jobs (retention) run on the job runtime like every service's: scheduler-jobs-{critical,high,normal,low}.
  ...jobConsumerDeclarations('scheduler'),
];

/**
 * Consumers no longer declared, removed by provisioning: JOBS is a work-queue
 * stream, where a consumer may not overlap another's subjects, so an old
 * single consumer of a service's jobs must go before its per-priority ones are
 * made. Its waiting messages stay in the stream for the new consumers.
 */
export const RETIRED_CONSUMERS: { stream: StreamName; durable: string; replacedBy: string }[] = [
  { stream: STREAMS.JOBS, durable: 'recurrence-jobs', replacedBy: 'recurrence-jobs-{critical,high,normal,low}' },
];

export function consumerDeclaration(durable: ConsumerName | string): ConsumerDeclaration {
  const found = CONSUMER_DECLARATIONS.find((c) => c.durable === durable);
  if (!found) throw new Error(`no consumer is declared with the name "${durable}"`);
  return found;
}

/**
 * The job runtime's consumers for one service: one durable per priority
 * (`<service>-jobs-<priority>` on `jobs.<priority>.<service>.>`), so waiting
 * critical work is never behind a backlog of lower priorities. Attempts are
 * counted in job_runs by the runtime, so deliveries are unlimited (a deferral
 * for tenant fairness or a paused queue naks without failing), and the ack
 * pending window is wide enough to read past one tenant's backlog.
 */
export function jobConsumerDeclarations(
  service: string,
  options: { concurrency?: number; ackWaitMs?: number; maxAckPending?: number; backoff?: BackoffPolicy } = {},
): ConsumerDeclaration[] {
  return PRIORITIES.map((priority: Priority) => ({
    stream: STREAMS.JOBS,
    durable: subjects.jobConsumer(service, priority),
    filterSubject: subjects.jobsOfPriority(priority, service),
    maxAttempts: 5,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    concurrency: options.concurrency ?? 16,
    ackWaitMs: options.ackWaitMs,
    maxDeliver: -1,
    maxAckPending: options.maxAckPending ?? 1_000_000,
  }));
}
