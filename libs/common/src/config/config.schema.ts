import type { ApiKeyConfig } from './api-keys.js';

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
  /** Prefix of this process's reply subjects (NATS_INBOX_PREFIX); unset: the nats.js default `_INBOX`. */
  inboxPrefix?: string;
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
  /**
   * Retention (scheduler.retention, daily): run history, failed and dead runs,
   * the audit log, notifications with their deliveries, dead letters; per-job
   * policies (JobHandler `retention`) replace these for their job.
   */
  retention: { runsDays: number; failedRunsDays: number; auditDays: number; notificationsDays: number; deadLettersDays: number };
  /**
   * HTTP authentication of every service (docs/control-plane.md): HS256 with jwtSecret and/or asymmetric
   * keys from jwksUrl; `iss`, `aud` and the longest token lifetime (exp - iat) checked when set; API keys by
   * digest with their role, tenant and expiry; where DEMO mode writes its token (and keeps its secret).
   */
  auth: {
    jwtSecret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string[];
    maxLifetimeSeconds?: number;
    apiKeys: ApiKeyConfig[];
    demoTokenFile: string;
  };
  /**
   * Job runtime: handlers one tenant may run at once in one process (0: no cap
   * beyond round-robin), messages held per tenant and priority before the rest
   * is deferred, and how often a paused queue's messages come back to look.
   */
  jobs: {
    tenantConcurrency: number;
    tenantBuffer: number;
    pausedRecheckMs: number;
    /** Due-now jobs of one subject a producer puts in one JetStream message (JOB_PACK_MAX; 1: no packs). */
    packMax: number;
    /** Handlers running at once per process (JOB_CONCURRENCY); unset: each service's own default. */
    concurrency?: number;
    /** Per service (JOB_CONCURRENCY_<SERVICE>), over JOB_CONCURRENCY. */
    concurrencyByService: Record<string, number>;
  };
  /**
   * HTTP APIs of every service: requests per second and burst per principal (or client IP before
   * authentication succeeds), shared by all replicas through Postgres; the JSON body limit (scheduler);
   * proxy hops trusted for the client IP (X-Forwarded-For); open SSE streams per user and per process.
   */
  api: {
    rateLimitPerSecond: number;
    rateLimitBurst: number;
    bodyLimitBytes: number;
    trustProxyHops: number;
    sseMaxPerUser: number;
    sseMaxPerProcess: number;
  };
  /**
   * Field encryption of sensitive job payloads (docs/durability.md): AES-256-GCM
   * keys by id (ENCRYPTION_KEYS=kid:base64,...) and the one new data is
   * encrypted under (ENCRYPTION_ACTIVE_KEY). Empty when not configured.
   */
  encryption?: { keys: Record<string, Buffer>; activeKeyId?: string };
  demo: boolean;
  /**
   * Honour payload fields that override a job's clock (`asOf`, a digest's `period`): tests only
   * (ALLOW_TIME_OVERRIDES, default false, refused with NODE_ENV=production). Off, such a payload is dead-lettered.
   */
  allowTimeOverrides: boolean;
  /** Scheduler admin API: schedules per tenant (API-created, scope tenant) and the shortest period a non-platform caller may schedule. */
  schedules: { maxPerTenant: number; minIntervalMs: number };
  /**
   * Recurrence API bounds: how far from now a rule's startLocal may lie (years), the wall-clock budget of
   * one rule expansion (ms; beyond it the rule is refused as too expensive), and per-tenant caps.
   */
  recurrence: {
    startMaxPastYears: number;
    startMaxFutureYears: number;
    expansionBudgetMs: number;
    maxTemplatesPerTenant: number;
    maxEventsPerTenant: number;
    maxRemindersPerTenant: number;
  };
  /**
   * Notifier webhooks: plain http allowed (default only with NODE_ENV=development), CIDRs exempt from the
   * private-address block (metadata addresses never are), and the most response bytes read.
   */
  webhooks: { allowHttp: boolean; allowedCidrs: string[]; maxResponseBytes: number };
  /**
   * Notifier email: the SMTP server (smtp:// or smtps://) and the From address.
   * `demoMailbox`: DEMO=true, SMTP_URL not set and not production — the
   * scheduler runs a mail catcher on 127.0.0.1:port and smtpUrl points at it.
   */
  mail: { smtpUrl: string; from: string; demoMailbox?: { port: number } };

  notifier: NotifierConfig;
}

/** A platform operator told about runs without a tenant (their in-app inbox is the `_platform` scope). */
export interface SystemAdmin {
  userId: string;
  email: string | null;
}

/** Web Push (RFC 8030/8292) VAPID identity: P-256 keys in base64url, and a contact (mailto: or https:). */
export interface VapidConfig {
  publicKey: string;
  privateKey: string;
  subject: string;
}

export interface NotifierConfig {
  /** Job alerts (job.dead, job.sla_breached, job.timed_out): at most one per job, kind and tenant in this window; later ones are counted and summed up when it ends. */
  alertWindowMs: number;
  /** Who hears about platform runs (NOTIFIER_SYSTEM_ADMINS=userId=email,...). */
  systemAdmins: SystemAdmin[];
  /** Web Push; absent: the push channel is off. */
  push?: VapidConfig;
}
