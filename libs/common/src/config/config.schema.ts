/**
 * The whole configuration of a Metronome process. This folder is the only place
 * that reads the environment; everything else receives an `AppConfig`.
 */
export type BackoffKind = 'exponential' | 'linear' | 'fixed';

export interface NatsConfig {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  nkeySeedFile?: string;
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  name: string;
  provisionOnStart: boolean;
  streamReplicas: number;
}

export interface DatabaseConfig {
  url: string;
  poolSize: number;
  runMigrationsOnStart: boolean;
}

export interface ServicePorts {
  scheduler: number;
  notifier: number;
  documents: number;
  recurrence: number;
}

export interface AppConfig {
  env: 'development' | 'test' | 'production';
  instanceId: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  nats: NatsConfig;
  database: DatabaseConfig;
  ports: ServicePorts;
  /** How often the walking-skeleton tick job is published. */
  tickIntervalMs: number;
  /** How long shutdown waits for in-flight handlers before draining anyway. */
  shutdownGraceMs: number;
  /** JetStream ack wait for the durable consumers. */
  ackWaitMs: number;
  /** Scheduler: how often due schedules are claimed and the outbox relayed. */
  schedulerPollMs: number;
  /** Scheduler: occurrences are claimed this long before they are due and published on time. */
  schedulerLookaheadMs: number;
  /** Scheduler: due schedules claimed per transaction. */
  schedulerBatchSize: number;
  /** Scheduler: an occurrence later than this counts as missed and follows the schedule's missed-run policy. */
  schedulerMisfireMs: number;
  /** Scheduler: how often every JOBS consumer's backlog and lag is sampled into queue_stats_minute for the dashboard's charts. */
  queueStatsSampleMs: number;
  /** Run the outbox relay in this process (the scheduler always does). */
  outboxRelay: boolean;
  /** Test-only fault hooks; never set in production. */
  faults: { crashAfterClaim: boolean };
  /** Run history retention. */
  retention: { runsDays: number; failedRunsDays: number };
  auth: { jwtSecret?: string; jwksUrl?: string; apiKeys: string[] };
  /**
   * Job runtime: handlers one tenant may run at once in one process (0: no cap
   * beyond round-robin), messages held per tenant and priority before the rest
   * is deferred, and how often a paused queue's messages come back to look.
   */
  jobs: {
    tenantConcurrency: number;
    tenantBuffer: number;
    pausedRecheckMs: number;
    /** Handlers running at once per process (JOB_CONCURRENCY); unset: each service's own default. */
    concurrency?: number;
    /** Per service (JOB_CONCURRENCY_<SERVICE>), over JOB_CONCURRENCY. */
    concurrencyByService: Record<string, number>;
  };
  /** Admin API (scheduler): requests per second and burst per principal (or IP when anonymous), and the JSON body limit. */
  api: { rateLimitPerSecond: number; rateLimitBurst: number; bodyLimitBytes: number };
  /**
   * Field encryption of sensitive job payloads (docs/durability.md): AES-256-GCM
   * keys by id (ENCRYPTION_KEYS=kid:base64,...) and the one new data is
   * encrypted under (ENCRYPTION_ACTIVE_KEY). Empty when not configured.
   */
  encryption?: { keys: Record<string, Buffer>; activeKeyId?: string };
  demo: boolean;
  /**
   * Notifier email: the SMTP server (smtp:// or smtps://) and the From address.
   * `demoMailbox`: DEMO=true, SMTP_URL not set and not production — the
   * scheduler runs a mail catcher on 127.0.0.1:port and smtpUrl points at it.
   */
  mail: { smtpUrl: string; from: string; demoMailbox?: { port: number } };
}
