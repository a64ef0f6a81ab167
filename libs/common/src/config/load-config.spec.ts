import { createECDH, randomBytes } from 'node:crypto';
import { ConfigValidationError, loadConfig, redactUrl } from './load-config.js';
import { DEMO_JWT_SECRET } from './placeholder-secret.js';

/** The problems loadConfig reports for `env` (none: []). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigValidationError)) throw e;
    return e.problems;
  }
}
const strong = () => randomBytes(32).toString('base64url');


describe('loadConfig', () => {
  it('gives working defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(c.ports).toEqual({ scheduler: 3000, notifier: 3001, documents: 3002, recurrence: 3003 });
    expect(c.tickIntervalMs).toBe(60_000);
  });

  it('lists every bad key, not just the first', () => {
    let error: unknown;
    try {
      loadConfig({ TICK_INTERVAL_MS: '500', SCHEDULER_PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems.join('\n');
    expect(problems).toContain('TICK_INTERVAL_MS');
    expect(problems).toContain('SCHEDULER_PORT');
    expect(problems).toContain('LOG_LEVEL');
    expect(problems).toContain('DATABASE_URL');
  });

  it('splits a NATS URL list and rejects junk entries', () => {
    expect(loadConfig({ NATS_URLS: 'nats://a:4222, nats://b:4222' }).nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(() => loadConfig({ NATS_URLS: 'not a url' })).toThrow(/NATS_URLS/);
  });

  it('refuses DEMO=true with NODE_ENV=production, naming DEMO', () => {
    expect(problemsOf({ DEMO: 'true', NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^DEMO: must not be true when NODE_ENV=production/)]);
    expect(problemsOf({ DEMO: 'true', NODE_ENV: 'development' })).toEqual([]);
    expect(problemsOf({ DEMO: 'false', NODE_ENV: 'production' })).toEqual([]);
  });

  it('refuses placeholder secrets in every key that holds one, naming the key and never the value', () => {
    const env = {
      JWT_SECRET: 'change-me-change-me-change-me-change-me',
      API_KEYS: `ci=${strong()},ops=your-api-key-here-please`,
      NATS_USER: 'scheduler',
      NATS_PASSWORD: 'changeme',
      NATS_TOKEN: 'secret',
      DATABASE_URL: 'postgres://metronome:password@db:5432/metronome',
      SMTP_URL: 'smtp://mailer:replace-me@mail:25',
      VAPID_PRIVATE_KEY: 'xxx',
    };
    const problems = problemsOf(env);
    expect(problems.map((p) => p.slice(0, p.indexOf(':')))).toEqual([
      'JWT_SECRET',
      'API_KEYS (ops)',
      'NATS_PASSWORD',
      'NATS_TOKEN',
      'DATABASE_URL (password)',
      'SMTP_URL (password)',
      'VAPID_PRIVATE_KEY',
    ]);
    const text = problems.join('\n');
    for (const value of ['change-me-change-me', 'your-api-key-here-please', 'replace-me', 'metronome:password']) expect(text).not.toContain(value);
  });

  it('refuses a password in a DATABASE_URL query and a token in NATS_URLS', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://db:5432/metronome?user=m&password=changeme' })).toEqual([expect.stringMatching(/^DATABASE_URL \(password\): /)]);
    expect(problemsOf({ NATS_URLS: 'nats://secret@nats:4222' })).toEqual([expect.stringMatching(/^NATS_URLS: /)]);
    expect(problemsOf({ NATS_URLS: `nats://${strong()}@nats:4222` })).toEqual([]);
  });

  it('accepts strong secrets, and the DEMO secret only in DEMO mode', () => {
    const env = {
      JWT_SECRET: strong(),
      API_KEYS: `ci=${strong()},digest=sha256:${'ab'.repeat(32)}`,
      NATS_USER: 'scheduler',
      NATS_PASSWORD: strong(),
      DATABASE_URL: `postgres://metronome:${strong()}@db:5432/metronome`,
      SMTP_URL: `smtps://mailer:${strong()}@mail:465`,
    };
    expect(problemsOf(env)).toEqual([]);
    expect(problemsOf({ JWT_SECRET: DEMO_JWT_SECRET })).toEqual([expect.stringMatching(/^JWT_SECRET: is the published DEMO secret/)]);
    expect(problemsOf({ JWT_SECRET: DEMO_JWT_SECRET, DEMO: 'true' })).toEqual([]);
    expect(problemsOf({ JWT_SECRET: 'short' })).toEqual(['JWT_SECRET: must be at least 32 characters']);
  });

  it('refuses encryption keys that are not random bytes, and never prints key material', () => {
    const text = Buffer.from('Quick brown foxes jump over 2 do').toString('base64');
    expect(problemsOf({ ENCRYPTION_KEYS: `k1:${text}`, ENCRYPTION_ACTIVE_KEY: 'k1' })).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS: key "k1" is text/)]);
    expect(problemsOf({ ENCRYPTION_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`, ENCRYPTION_ACTIVE_KEY: 'k1' })).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS: key "k1" is not random/)]);
    const material = randomBytes(32).toString('base64');
    const problems = problemsOf({ ENCRYPTION_KEYS: `bad kid:${material}`, ENCRYPTION_ACTIVE_KEY: 'k1' }).join('\n');
    expect(problems).toContain('ENCRYPTION_KEYS: entry 1 is not kid:base64key');
    expect(problems).not.toContain(material.slice(0, 8));
  });

  it('takes NATS_INBOX_PREFIX as subject tokens without wildcards', () => {
    expect(loadConfig({}).nats.inboxPrefix).toBeUndefined();
    expect(loadConfig({ NATS_INBOX_PREFIX: '_INBOX_scheduler' }).nats.inboxPrefix).toBe('_INBOX_scheduler');
    expect(loadConfig({ NATS_INBOX_PREFIX: '_INBOX.documents' }).nats.inboxPrefix).toBe('_INBOX.documents');
    for (const bad of ['_INBOX.>', '_INBOX.*', 'with space', '_INBOX.', '$JS.API']) expect(problemsOf({ NATS_INBOX_PREFIX: bad })).toEqual([expect.stringMatching(/^NATS_INBOX_PREFIX: /)]);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://u:pw@h:5432/d', 'postgres://u:***@h:5432/d'],
    ['nats://tok3n@h:4222', 'nats://***@h:4222'],
    ['postgres://h/d?user=u&password=pw&sslmode=require', 'postgres://h/d?user=u&password=***&sslmode=require'],
    ['smtp://h:25?api_key=k&token=t', 'smtp://h:25?api_key=***&token=***'],
    ['nats://h:4222', 'nats://h:4222'],
  ])('%s -> %s', (raw, redacted) => {
    expect(redactUrl(raw)).toBe(redacted);
  });
});

describe('loadConfig: notifier', () => {
  // Generated with node:crypto for this test only (prime256v1).
  const pair = () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const priv = ecdh.getPrivateKey();
    return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: Buffer.concat([Buffer.alloc(32 - priv.length), priv]).toString('base64url') };
  };

  it('defaults to a 15-minute alert window, no system admins and no push', () => {
    expect(loadConfig({}).notifier).toEqual({ alertWindowMs: 900_000, systemAdmins: [], push: undefined });
    expect(loadConfig({ DEMO: 'true' }).notifier.systemAdmins).toEqual([{ userId: 'demo-admin', email: 'demo-admin@example.test' }]);
  });

  it('reads system admins with and without an email, and names a bad entry', () => {
    expect(loadConfig({ NOTIFIER_SYSTEM_ADMINS: 'ops-1=ops1@example.com, ops-2' }).notifier.systemAdmins).toEqual([
      { userId: 'ops-1', email: 'ops1@example.com' },
      { userId: 'ops-2', email: null },
    ]);
    expect(() => loadConfig({ NOTIFIER_SYSTEM_ADMINS: 'ops-1=not-an-email' })).toThrow(/NOTIFIER_SYSTEM_ADMINS: "not-an-email"/);
    expect(() => loadConfig({ NOTIFIER_SYSTEM_ADMINS: 'a,a' })).toThrow(/appears twice/);
  });

  it('takes a matching VAPID key pair and subject, and refuses a partial, malformed or mismatched one', () => {
    const k = pair();
    const ok = loadConfig({ PUSH_VAPID_PUBLIC_KEY: k.publicKey, PUSH_VAPID_PRIVATE_KEY: k.privateKey, PUSH_VAPID_SUBJECT: 'mailto:ops@example.com' });
    expect(ok.notifier.push).toEqual({ ...k, subject: 'mailto:ops@example.com' });
    expect(() => loadConfig({ PUSH_VAPID_PUBLIC_KEY: k.publicKey })).toThrow(/set all three/);
    expect(() => loadConfig({ PUSH_VAPID_PUBLIC_KEY: 'abc', PUSH_VAPID_PRIVATE_KEY: k.privateKey, PUSH_VAPID_SUBJECT: 'mailto:a@b.c' })).toThrow(/PUSH_VAPID_PUBLIC_KEY: must be an uncompressed P-256/);
    expect(() => loadConfig({ ...{ PUSH_VAPID_PUBLIC_KEY: pair().publicKey }, PUSH_VAPID_PRIVATE_KEY: k.privateKey, PUSH_VAPID_SUBJECT: 'mailto:a@b.c' })).toThrow(/is not the public key of PUSH_VAPID_PRIVATE_KEY/);
    expect(() => loadConfig({ PUSH_VAPID_PUBLIC_KEY: k.publicKey, PUSH_VAPID_PRIVATE_KEY: k.privateKey, PUSH_VAPID_SUBJECT: 'http://x' })).toThrow(/PUSH_VAPID_SUBJECT/);
    expect(() => loadConfig({ NOTIFIER_ALERT_WINDOW_MS: '10' })).toThrow(/NOTIFIER_ALERT_WINDOW_MS/);
  });

  it('runs the demo mailbox only with DEMO=true, no SMTP_URL and not in production', () => {
    expect(loadConfig({}).mail).toEqual({ smtpUrl: 'smtp://127.0.0.1:1025', from: expect.any(String), demoMailbox: undefined });
    expect(loadConfig({ DEMO: 'true' }).mail).toMatchObject({ smtpUrl: 'smtp://127.0.0.1:1025', demoMailbox: { port: 1025 } });
    expect(loadConfig({ DEMO: 'true', DEMO_MAILBOX_PORT: '2525' }).mail).toMatchObject({ smtpUrl: 'smtp://127.0.0.1:2525', demoMailbox: { port: 2525 } });
    expect(loadConfig({ DEMO: 'true', SMTP_URL: 'smtp://mail.example.com:25' }).mail).toMatchObject({ smtpUrl: 'smtp://mail.example.com:25', demoMailbox: undefined });
    // Set to its own default value still counts as set: the operator chose that server.
    expect(loadConfig({ DEMO: 'true', SMTP_URL: 'smtp://127.0.0.1:1025' }).mail.demoMailbox).toBeUndefined();
    expect(() => loadConfig({ DEMO: 'true', DEMO_MAILBOX_PORT: '0' })).toThrow(/DEMO_MAILBOX_PORT/);
  });
});
