import { createECDH } from 'node:crypto';
import { ConfigValidationError, loadConfig } from './load-config.js';

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
});
