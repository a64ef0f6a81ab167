import { createECDH } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { parseApiKeys } from './api-keys.js';
import type { AppConfig, SystemAdmin, VapidConfig } from './config.schema.js';
import { placeholderReason, weakKeyReason } from './placeholder-secret.js';
import { redactUrl } from '../util/redact-url.js';

export { redactUrl };

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

/** The password of a URL (userinfo or ?password=), decoded; undefined when it has none or does not parse. */
function urlPassword(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    const fromQuery = u.searchParams.get('password') ?? undefined;
    return u.password ? decodeURIComponent(u.password) : fromQuery;
  } catch {
    return undefined;
  }
}

/** ENCRYPTION_KEYS=kid1:base64key,kid2:...: each key 32 bytes; ENCRYPTION_ACTIVE_KEY names one of them. */
function encryptionKeys(raw: string | undefined, active: string | undefined, problems: string[]): AppConfig['encryption'] {
  const keys: Record<string, Buffer> = {};
  const entries = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const at = entry.indexOf(':');
    const kid = at > 0 ? entry.slice(0, at) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) {
      // The entry holds key material: name its position, never its text.
      problems.push(`ENCRYPTION_KEYS: entry ${i + 1} is not kid:base64key (kid: letters, digits, _ and -)`);
      continue;
    }
    const b64 = entry.slice(at + 1);
    const key = Buffer.from(b64, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length !== 32) {
      problems.push(`ENCRYPTION_KEYS: key "${kid}" must be 32 bytes in base64 (got ${key.length} bytes)`);
      continue;
    }
    if (keys[kid]) problems.push(`ENCRYPTION_KEYS: key id "${kid}" appears twice`);
    const weak = weakKeyReason(key);
    if (weak) problems.push(`ENCRYPTION_KEYS: key "${kid}" ${weak}`);
    keys[kid] = key;
  }
  if (active !== undefined && !keys[active]) problems.push(`ENCRYPTION_ACTIVE_KEY: "${active}" is not one of the ENCRYPTION_KEYS ids`);
  if (active === undefined && Object.keys(keys).length > 0) problems.push('ENCRYPTION_ACTIVE_KEY: required when ENCRYPTION_KEYS is set');
  return { keys, activeKeyId: active };
}

/**
 * NATS_INBOX_PREFIX: where this process's replies arrive (requests, JetStream
 * API calls, pull deliveries). A per-service prefix lets the NATS server allow
 * each user only its own inboxes; unset keeps the nats.js default `_INBOX`.
 */
function inboxPrefix(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(raw)) {
    problems.push(`NATS_INBOX_PREFIX: expected subject tokens (letters, digits, _ and -, separated by dots; no wildcards), got "${raw}"`);
    return undefined;
  }
  return raw;
}

/**
 * Every secret is checked for placeholder values (placeholder-secret.ts); a
 * problem names the key, never the value. Secrets read here: JWT_SECRET,
 * API_KEYS, NATS_PASSWORD / NATS_TOKEN and the passwords in NATS_URLS,
 * DATABASE_URL and SMTP_URL, and VAPID_PRIVATE_KEY (web push). ENCRYPTION_KEYS
 * are checked as bytes where they are parsed.
 */
function checkSecrets(env: Env, config: AppConfig, problems: string[]): void {
  const check = (key: string, value: string | undefined, rules: Parameters<typeof placeholderReason>[1] = {}) => {
    if (value === undefined || value === '') return;
    const reason = placeholderReason(value, rules);
    if (reason) problems.push(`${key}: ${reason}`);
  };
  check('JWT_SECRET', config.auth.jwtSecret, { minLength: 32, demo: config.demo });
  (env.API_KEYS ?? '').split(',').map((e) => e.trim().split(';')[0].trim()).filter(Boolean).forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq) : `key ${i + 1}`;
    const value = eq > 0 ? entry.slice(eq + 1) : entry;
    // A stored digest is not the key: nothing to judge.
    if (/^sha256:[0-9a-f]{64}$/i.test(value)) return;
    check(`API_KEYS (${name})`, value, { minLength: 16 });
  });
  check('NATS_PASSWORD', config.nats.password);
  check('NATS_TOKEN', config.nats.token);
  config.nats.servers.forEach((s) => check('NATS_URLS', urlPassword(s) ?? urlUser(s)));
  check('DATABASE_URL (password)', urlPassword(config.database.url));
  check('SMTP_URL (password)', urlPassword(config.mail.smtpUrl));
  check('VAPID_PRIVATE_KEY', env.VAPID_PRIVATE_KEY);
}

/** The user part of a NATS URL without a password: a token (nats://<token>@host). */
function urlUser(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    return u.username && !u.password ? decodeURIComponent(u.username) : undefined;
  } catch {
    return undefined;
  }
}

/** CIDR=a.b.c.d/n or v6::/n, comma-separated. */
function cidrs(raw: string | undefined, key: string, problems: string[]): string[] {
  const out: string[] = [];
  for (const entry of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bits = Number(prefix);
    if (extra !== undefined || family === 0 || !/^\d{1,3}$/.test(prefix ?? '') || bits > (family === 4 ? 32 : 128)) {
      problems.push(`${key}: "${entry.slice(0, 60)}" is not a CIDR like 10.0.0.0/8 or fd00::/8`);
      continue;
    }
    out.push(entry);
  }
  return out;
}

/** NOTIFIER_SYSTEM_ADMINS=userId=email,userId (no email: in-app and push only). */
function systemAdmins(raw: string | undefined, problems: string[]): SystemAdmin[] {
  const admins: SystemAdmin[] = [];
  for (const entry of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const userId = (at < 0 ? entry : entry.slice(0, at)).trim();
    const email = at < 0 ? null : entry.slice(at + 1).trim();
    if (!userId || userId.length > 200) problems.push(`NOTIFIER_SYSTEM_ADMINS: "${entry.slice(0, 40)}" names no user id (userId or userId=email)`);
    else if (email !== null && !/^[^\s@]+@[^\s@]+$/.test(email)) problems.push(`NOTIFIER_SYSTEM_ADMINS: "${email}" of ${userId} is not an email address`);
    else if (admins.some((a) => a.userId === userId)) problems.push(`NOTIFIER_SYSTEM_ADMINS: ${userId} appears twice`);
    else admins.push({ userId, email });
  }
  return admins;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * PUSH_VAPID_PUBLIC_KEY (65-byte uncompressed P-256 point), PUSH_VAPID_PRIVATE_KEY
 * (32 bytes), both base64url, PUSH_VAPID_SUBJECT (mailto: or https:): all three or
 * none, and the public key must be the private key's.
 */
function vapid(publicKey: string | undefined, privateKey: string | undefined, subject: string | undefined, problems: string[]): VapidConfig | undefined {
  if (publicKey === undefined && privateKey === undefined && subject === undefined) return undefined;
  const before = problems.length;
  if (publicKey === undefined || privateKey === undefined || subject === undefined) {
    problems.push('PUSH_VAPID_PUBLIC_KEY, PUSH_VAPID_PRIVATE_KEY, PUSH_VAPID_SUBJECT: set all three (npx web-push generate-vapid-keys) or none');
    return undefined;
  }
  const pub = BASE64URL.test(publicKey) ? Buffer.from(publicKey, 'base64url') : Buffer.alloc(0);
  const priv = BASE64URL.test(privateKey) ? Buffer.from(privateKey, 'base64url') : Buffer.alloc(0);
  if (pub.length !== 65 || pub[0] !== 0x04) problems.push(`PUSH_VAPID_PUBLIC_KEY: must be an uncompressed P-256 public key in base64url (65 bytes), got ${pub.length} bytes`);
  if (priv.length !== 32) problems.push(`PUSH_VAPID_PRIVATE_KEY: must be a P-256 private key in base64url (32 bytes), got ${priv.length} bytes`);
  if (!/^mailto:[^\s@]+@[^\s@]+$/.test(subject) && !/^https:\/\/[^\s]+$/.test(subject)) problems.push(`PUSH_VAPID_SUBJECT: must be a mailto: or https: URL (the push services' contact), got "${subject}"`);
  if (problems.length === before) {
    let derived: Buffer | undefined;
    try {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(priv);
      derived = ecdh.getPublicKey();
    } catch {
      problems.push('PUSH_VAPID_PRIVATE_KEY: not a valid P-256 private key');
    }
    if (derived && !derived.equals(pub)) problems.push('PUSH_VAPID_PUBLIC_KEY: is not the public key of PUSH_VAPID_PRIVATE_KEY');
  }
  return problems.length === before ? { publicKey, privateKey, subject } : undefined;
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
      inboxPrefix: inboxPrefix(str('NATS_INBOX_PREFIX'), problems),
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
      auditDays: int('RETENTION_AUDIT_DAYS', 90, 1),
      notificationsDays: int('RETENTION_NOTIFICATIONS_DAYS', 90, 1),
      deadLettersDays: int('RETENTION_DEAD_LETTERS_DAYS', 30, 1),
    },
    auth: {
      jwtSecret: str('JWT_SECRET'),
      jwksUrl: str('JWKS_URL') === undefined ? undefined : url('JWKS_URL', '', env_ === 'production' ? ['https:'] : ['https:', 'http:']),
      issuer: str('JWT_ISSUER'),
      audience: str('JWT_AUDIENCE')?.split(',').map((s) => s.trim()).filter(Boolean),
      maxLifetimeSeconds: str('JWT_MAX_LIFETIME_S') === undefined ? undefined : int('JWT_MAX_LIFETIME_S', 0, 60, 366 * 86_400),
      apiKeys: parseApiKeys(str('API_KEYS'), env_ === 'production', problems),
      demoTokenFile: str('DEMO_TOKEN_FILE', '.data/demo-token')!,
    },
    api: {
      rateLimitPerSecond: int('API_RATE_LIMIT_PER_SECOND', 20, 1, 100_000),
      rateLimitBurst: int('API_RATE_LIMIT_BURST', 100, 1, 1_000_000),
      bodyLimitBytes: int('API_BODY_LIMIT_BYTES', 100 * 1024, 1_024, 100 * 1024),
      trustProxyHops: int('API_TRUST_PROXY_HOPS', 0, 0, 10),
      sseMaxPerUser: int('SSE_MAX_PER_USER', 5, 1, 1_000),
      sseMaxPerProcess: int('SSE_MAX_PER_PROCESS', 2_000, 1, 1_000_000),
    },
    jobs: {
      tenantConcurrency: int('JOB_TENANT_CONCURRENCY', 0, 0, 10_000),
      tenantBuffer: int('JOB_TENANT_BUFFER', 256, 1, 100_000),
      pausedRecheckMs: int('JOB_PAUSED_RECHECK_MS', 1_000, 100, 60_000),
      packMax: int('JOB_PACK_MAX', 50, 1, 100),
      concurrency: optionalInt('JOB_CONCURRENCY', 1, 10_000),
      concurrencyByService: Object.fromEntries(
        ['scheduler', 'notifier', 'documents', 'recurrence']
          .map((service) => [service, optionalInt(`JOB_CONCURRENCY_${service.toUpperCase()}`, 1, 10_000)] as const)
          .filter((e): e is readonly [string, number] => e[1] !== undefined),
      ),
    },
    encryption: encryptionKeys(str('ENCRYPTION_KEYS'), str('ENCRYPTION_ACTIVE_KEY'), problems),
    demo,
    allowTimeOverrides: bool('ALLOW_TIME_OVERRIDES', false),
    schedules: {
      maxPerTenant: int('SCHEDULES_MAX_PER_TENANT', 100, 1, 1_000_000),
      minIntervalMs: int('SCHEDULE_MIN_INTERVAL_MS', 60_000, 1_000, 86_400_000),
    },
    recurrence: {
      startMaxPastYears: int('RECURRENCE_START_MAX_PAST_YEARS', 10, 0, 100),
      startMaxFutureYears: int('RECURRENCE_START_MAX_FUTURE_YEARS', 50, 1, 200),
      expansionBudgetMs: int('RECURRENCE_EXPANSION_BUDGET_MS', 250, 10, 10_000),
      maxTemplatesPerTenant: int('RECURRENCE_MAX_TEMPLATES_PER_TENANT', 1_000, 1, 1_000_000),
      maxEventsPerTenant: int('RECURRENCE_MAX_EVENTS_PER_TENANT', 1_000, 1, 1_000_000),
      maxRemindersPerTenant: int('RECURRENCE_MAX_REMINDERS_PER_TENANT', 20_000, 1, 10_000_000),
    },
    webhooks: {
      allowHttp: bool('WEBHOOK_ALLOW_HTTP', env_ === 'development'),
      allowedCidrs: cidrs(str('WEBHOOK_ALLOWED_CIDRS'), 'WEBHOOK_ALLOWED_CIDRS', problems),
      maxResponseBytes: int('WEBHOOK_MAX_RESPONSE_BYTES', 64 * 1024, 0, 10 * 1024 * 1024),
    },
    mail: {
      smtpUrl: demoMailbox ? `smtp://127.0.0.1:${demoMailbox.port}` : url('SMTP_URL', 'smtp://127.0.0.1:1025', ['smtp:', 'smtps:']),
      from: str('MAIL_FROM', 'Metronome <notifications@metronome.local>')!,
      demoMailbox,
    },
    notifier: {
      alertWindowMs: int('NOTIFIER_ALERT_WINDOW_MS', 15 * 60_000, 1_000, 7 * 24 * 3600_000),
      // DEMO: the system-admin the demo token signs in as hears about the platform's own failures.
      systemAdmins: systemAdmins(str('NOTIFIER_SYSTEM_ADMINS', demo ? 'demo-admin=demo-admin@example.test' : undefined), problems),
      push: vapid(str('PUSH_VAPID_PUBLIC_KEY'), str('PUSH_VAPID_PRIVATE_KEY'), str('PUSH_VAPID_SUBJECT'), problems),
    },
  };
  if (config.nats.user && !config.nats.password) problems.push('NATS_PASSWORD: required when NATS_USER is set');
  if (config.nats.credsFile && config.nats.nkeySeedFile) {
    problems.push('NATS_CREDS_FILE: set either NATS_CREDS_FILE or NATS_NKEY_SEED_FILE, not both');
  }
  if (config.demo && config.env === 'production') {
    problems.push('DEMO: must not be true when NODE_ENV=production (it seeds demo tenants and hands out an admin token)');
  }
  checkSecrets(env, config, problems);
  if (config.allowTimeOverrides && config.env === 'production') {
    problems.push('ALLOW_TIME_OVERRIDES: must not be true with NODE_ENV=production (payloads would choose what time it is)');
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}
