import { hostname } from 'node:os';
import type { AppConfig } from './config.schema.js';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

/** A URL's password never goes into an error message (they end up in logs): scheme://user:***@host. */
export function redactUrl(raw: string): string {
  return raw.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}

/** ENCRYPTION_KEYS=kid1:base64key,kid2:...: each key 32 bytes; ENCRYPTION_ACTIVE_KEY names one of them. */
function encryptionKeys(raw: string | undefined, active: string | undefined, problems: string[]): AppConfig['encryption'] {
  const keys: Record<string, Buffer> = {};
  for (const entry of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf(':');
    const kid = at > 0 ? entry.slice(0, at) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) {
      problems.push(`ENCRYPTION_KEYS: "${entry.slice(0, 40)}" is not kid:base64key (kid: letters, digits, _ and -)`);
      continue;
    }
    const b64 = entry.slice(at + 1);
    const key = Buffer.from(b64, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length !== 32) {
      problems.push(`ENCRYPTION_KEYS: key "${kid}" must be 32 bytes in base64 (got ${key.length} bytes)`);
      continue;
    }
    if (keys[kid]) problems.push(`ENCRYPTION_KEYS: key id "${kid}" appears twice`);
    keys[kid] = key;
  }
  if (active !== undefined && !keys[active]) problems.push(`ENCRYPTION_ACTIVE_KEY: "${active}" is not one of the ENCRYPTION_KEYS ids`);
  if (active === undefined && Object.keys(keys).length > 0) problems.push('ENCRYPTION_ACTIVE_KEY: required when ENCRYPTION_KEYS is set');
  return { keys, activeKeyId: active };
}

/** Reads and validates every key; collects all problems before failing. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const str = (key: string, fallback?: string): string | undefined => {
    const v = env[key];
    return v === undefined || v === '' ? fallback : v;
  };
  const int = (key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key}: expected an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const optionalInt = (key: string, min: number, max: number): number | undefined => (str(key) === undefined ? undefined : int(key, min, min, max));
  const bool = (key: string, fallback: boolean): boolean => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    problems.push(`${key}: expected true or false, got "${raw}"`);
    return fallback;
  };
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    if (!(values as readonly string[]).includes(raw)) {
      problems.push(`${key}: expected one of ${values.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };
  const url = (key: string, fallback: string, protocols: string[]): string => {
    const raw = str(key, fallback)!;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
    } catch {
      problems.push(`${key}: expected a ${protocols.join(' or ')} URL, got "${redactUrl(raw)}"`);
    }
    return raw;
  };

  const servers = (str('NATS_URLS', 'nats://127.0.0.1:4222') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) problems.push('NATS_URLS: at least one server URL is required');
  for (const s of servers) {
    if (!/^(nats|tls|ws|wss):\/\/[^\s]+$/.test(s) && !/^[\w.-]+:\d+$/.test(s)) {
      problems.push(`NATS_URLS: "${redactUrl(s)}" is not a nats://host:port URL`);
    }
  }

  const env_ = oneOf('NODE_ENV', ['development', 'test', 'production'] as const, 'development');
  const demo = bool('DEMO', false);
  // DEMO without a mail server of its own: the scheduler catches the demo's mail in process (never in production).
  const demoMailboxPort = int('DEMO_MAILBOX_PORT', 1025, 1, 65535);
  const demoMailbox = demo && str('SMTP_URL') === undefined && env_ !== 'production' ? { port: demoMailboxPort } : undefined;
  const config: AppConfig = {
    env: env_,
    instanceId: str('INSTANCE_ID', `${hostname()}-${process.pid}`)!,
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    nats: {
      servers,
      user: str('NATS_USER'),
      password: str('NATS_PASSWORD'),
      token: str('NATS_TOKEN'),
      nkeySeedFile: str('NATS_NKEY_SEED_FILE'),
      credsFile: str('NATS_CREDS_FILE'),
      tls:
        str('NATS_TLS_CA_FILE') || str('NATS_TLS_CERT_FILE') || str('NATS_TLS_KEY_FILE')
          ? { caFile: str('NATS_TLS_CA_FILE'), certFile: str('NATS_TLS_CERT_FILE'), keyFile: str('NATS_TLS_KEY_FILE') }
          : undefined,
      name: str('NATS_CLIENT_NAME', 'metronome')!,
      provisionOnStart: bool('NATS_PROVISION_ON_START', true),
      streamReplicas: int('STREAM_REPLICAS', 1, 1, 5),
    },
    database: {
      url: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/metronome', ['postgres:', 'postgresql:']),
      poolSize: int('DATABASE_POOL_SIZE', 10, 1, 200),
      runMigrationsOnStart: bool('DATABASE_MIGRATE_ON_START', false),
    },
    ports: {
      scheduler: int('SCHEDULER_PORT', 3000, 0, 65535),
      notifier: int('NOTIFIER_PORT', 3001, 0, 65535),
      documents: int('DOCUMENTS_PORT', 3002, 0, 65535),
      recurrence: int('RECURRENCE_PORT', 3003, 0, 65535),
    },
    tickIntervalMs: int('TICK_INTERVAL_MS', 60_000, 1_000),
    shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 10_000, 0),
    ackWaitMs: int('ACK_WAIT_MS', 30_000, 1_000),
    schedulerPollMs: int('SCHEDULER_POLL_MS', 200, 10, 60_000),
    schedulerLookaheadMs: int('SCHEDULER_LOOKAHEAD_MS', 500, 0, 10_000),
    schedulerBatchSize: int('SCHEDULER_BATCH_SIZE', 500, 1, 10_000),
    schedulerMisfireMs: int('SCHEDULER_MISFIRE_MS', 60_000, 1_000),
    queueStatsSampleMs: int('QUEUE_STATS_SAMPLE_MS', 60_000, 1_000, 3_600_000),
    outboxRelay: bool('OUTBOX_RELAY', false),
    faults: { crashAfterClaim: bool('FAULT_CRASH_AFTER_CLAIM', false) },
    retention: {
      runsDays: int('RETENTION_RUNS_DAYS', 90, 1),
      failedRunsDays: int('RETENTION_FAILED_RUNS_DAYS', 180, 1),
    },
    auth: {
      jwtSecret: str('JWT_SECRET'),
      jwksUrl: str('JWKS_URL'),
      apiKeys: (str('API_KEYS', '') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    },
    api: {
      rateLimitPerSecond: int('API_RATE_LIMIT_PER_SECOND', 20, 1, 100_000),
      rateLimitBurst: int('API_RATE_LIMIT_BURST', 100, 1, 1_000_000),
      bodyLimitBytes: int('API_BODY_LIMIT_BYTES', 100 * 1024, 1_024, 100 * 1024),
    },
    jobs: {
      tenantConcurrency: int('JOB_TENANT_CONCURRENCY', 0, 0, 10_000),
      tenantBuffer: int('JOB_TENANT_BUFFER', 256, 1, 100_000),
      pausedRecheckMs: int('JOB_PAUSED_RECHECK_MS', 1_000, 100, 60_000),
      concurrency: optionalInt('JOB_CONCURRENCY', 1, 10_000),
      concurrencyByService: Object.fromEntries(
        ['scheduler', 'notifier', 'documents', 'recurrence']
          .map((service) => [service, optionalInt(`JOB_CONCURRENCY_${service.toUpperCase()}`, 1, 10_000)] as const)
          .filter((e): e is readonly [string, number] => e[1] !== undefined),
      ),
    },
    encryption: encryptionKeys(str('ENCRYPTION_KEYS'), str('ENCRYPTION_ACTIVE_KEY'), problems),
    demo,
    mail: {
      smtpUrl: demoMailbox ? `smtp://127.0.0.1:${demoMailbox.port}` : url('SMTP_URL', 'smtp://127.0.0.1:1025', ['smtp:', 'smtps:']),
      from: str('MAIL_FROM', 'Metronome <notifications@metronome.local>')!,
      demoMailbox,
    },
  };
  if (config.nats.user && !config.nats.password) problems.push('NATS_PASSWORD: required when NATS_USER is set');
  if (config.nats.credsFile && config.nats.nkeySeedFile) {
    problems.push('NATS_CREDS_FILE: set either NATS_CREDS_FILE or NATS_NKEY_SEED_FILE, not both');
  }
  if (config.auth.jwtSecret !== undefined && config.auth.jwtSecret.length < 32) {
    problems.push('JWT_SECRET: must be at least 32 characters');
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}
