import { shortestPeriodMs } from './schedule-timing.js';

const now = new Date('2026-03-01T00:00:00Z');
const cron = (expr: string, timezone = 'UTC') => shortestPeriodMs({ kind: 'cron', cron: expr, intervalMs: null, timezone }, now);

describe('shortest period of a schedule', () => {
  it('is the interval of an interval schedule', () => {
    expect(shortestPeriodMs({ kind: 'interval', cron: null, intervalMs: 90_000, timezone: 'UTC' }, now)).toBe(90_000);
  });

  it('is the smallest gap between fire times of a cron expression', () => {
    expect(cron('* * * * *')).toBe(60_000);
    expect(cron('*/10 * * * * *')).toBe(10_000);
    expect(cron('0,30 * * * * *')).toBe(30_000);
    expect(cron('0 9 * * *')).toBe(86_400_000);
    // Twice a day, one minute apart: the pair counts, not the average.
    expect(cron('0,1 0 * * *')).toBe(60_000);
    expect(cron('0 9 * * *', 'tenant')).toBe(86_400_000);
  });

  it('is null for one-offs, event and manual schedules', () => {
    expect(shortestPeriodMs({ kind: 'once', cron: null, intervalMs: null, timezone: 'UTC' }, now)).toBeNull();
    expect(shortestPeriodMs({ kind: 'event', cron: null, intervalMs: null, timezone: 'UTC' }, now)).toBeNull();
  });
});
