import { loadConfig } from './load-config.js';

describe('configuration of platform jobs, bounded work and webhooks', () => {
  it('has safe defaults', () => {
    const c = loadConfig({ NODE_ENV: 'production' });
    expect(c.allowTimeOverrides).toBe(false);
    expect(c.schedules).toEqual({ maxPerTenant: 100, minIntervalMs: 60_000 });
    expect(c.recurrence).toEqual({ startMaxPastYears: 10, startMaxFutureYears: 50, expansionBudgetMs: 250, maxTemplatesPerTenant: 1_000, maxEventsPerTenant: 1_000, maxRemindersPerTenant: 20_000 });
    expect(c.webhooks).toEqual({ allowHttp: false, allowedCidrs: [], maxResponseBytes: 65_536 });
    expect(loadConfig({ NODE_ENV: 'development' }).webhooks.allowHttp).toBe(true);
  });

  it('refuses time overrides in production and lists every bad key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ALLOW_TIME_OVERRIDES: 'true' })).toThrow(/ALLOW_TIME_OVERRIDES: must not be true with NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: 'test', ALLOW_TIME_OVERRIDES: 'true' }).allowTimeOverrides).toBe(true);
    const bad = () => loadConfig({ WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/8,not-a-cidr,10.0.0.0/33', SCHEDULE_MIN_INTERVAL_MS: '10', RECURRENCE_EXPANSION_BUDGET_MS: 'x' });
    for (const key of [/WEBHOOK_ALLOWED_CIDRS: "not-a-cidr"/, /WEBHOOK_ALLOWED_CIDRS: "10.0.0.0\/33"/, /SCHEDULE_MIN_INTERVAL_MS/, /RECURRENCE_EXPANSION_BUDGET_MS/]) expect(bad).toThrow(key);
    expect(loadConfig({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32, fd00::/8' }).webhooks.allowedCidrs).toEqual(['127.0.0.1/32', 'fd00::/8']);
  });
});
