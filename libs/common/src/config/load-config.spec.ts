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
