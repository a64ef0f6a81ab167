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

  it('runs the demo mailbox only with DEMO=true, no SMTP_URL and not in production', () => {
    expect(loadConfig({}).mail).toEqual({ smtpUrl: 'smtp://127.0.0.1:1025', from: expect.any(String), demoMailbox: undefined });
    expect(loadConfig({ DEMO: 'true' }).mail).toMatchObject({ smtpUrl: 'smtp://127.0.0.1:1025', demoMailbox: { port: 1025 } });
    expect(loadConfig({ DEMO: 'true', DEMO_MAILBOX_PORT: '2525' }).mail).toMatchObject({ smtpUrl: 'smtp://127.0.0.1:2525', demoMailbox: { port: 2525 } });
    expect(loadConfig({ DEMO: 'true', SMTP_URL: 'smtp://mail.example.com:25' }).mail).toMatchObject({ smtpUrl: 'smtp://mail.example.com:25', demoMailbox: undefined });
    // Set to its own default value still counts as set: the operator chose that server.
    expect(loadConfig({ DEMO: 'true', SMTP_URL: 'smtp://127.0.0.1:1025' }).mail.demoMailbox).toBeUndefined();
    expect(loadConfig({ DEMO: 'true', NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).mail.demoMailbox).toBeUndefined();
    expect(() => loadConfig({ DEMO: 'true', DEMO_MAILBOX_PORT: '0' })).toThrow(/DEMO_MAILBOX_PORT/);
  });
});
