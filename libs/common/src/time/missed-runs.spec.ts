import { nextFireTime, parseCron } from './cron-expression.js';
import { createInterval, nextIntervalFire } from './interval.js';
import { missedOccurrences, type MissedOccurrencesInput } from './missed-runs.js';

const at = (s: string) => new Date(s);
const iso = (d: Date | null) => (d === null ? null : d.toISOString().replace('.000Z', 'Z'));
const hourly = (after: Date) => nextIntervalFire(createInterval(3_600_000, at('2026-01-01T00:00:00Z')), after);
const cron = (expr: string, tz = 'UTC') => {
  const spec = parseCron(expr);
  return (after: Date) => nextFireTime(spec, tz, after);
};

function run(input: Partial<MissedOccurrencesInput> & Pick<MissedOccurrencesInput, 'policy'>) {
  const result = missedOccurrences({ next: hourly, lastPlanned: at('2026-03-10T09:00:00Z'), now: at('2026-03-10T12:05:00Z'), ...input });
  return { ...result, fire: result.fire.map((d) => iso(d)), next: iso(result.next) };
}

describe('missedOccurrences', () => {
  it('fires nothing before the planned time, under every policy', () => {
    for (const policy of ['skip', 'fire_once', 'fire_all'] as const) {
      expect(run({ policy, now: at('2026-03-10T08:59:59Z') })).toEqual({ fire: [], skipped: 0, skippedExact: true, next: '2026-03-10T09:00:00Z' });
    }
  });

  it('fires an on-time occurrence under every policy', () => {
    for (const policy of ['skip', 'fire_once', 'fire_all'] as const) {
      expect(run({ policy, now: at('2026-03-10T09:00:00.200Z') })).toEqual({
        fire: ['2026-03-10T09:00:00Z'],
        skipped: 0,
        skippedExact: true,
        next: '2026-03-10T10:00:00Z',
      });
    }
  });

  describe('after an outage (due: 09:00, 10:00, 11:00, 12:00)', () => {
    it('skip fires none when the latest is older than the grace, and the next is in the future', () => {
      expect(run({ policy: 'skip' })).toEqual({ fire: [], skipped: 4, skippedExact: true, next: '2026-03-10T13:00:00Z' });
    });

    it('skip still fires the latest occurrence when it is within the grace', () => {
      expect(run({ policy: 'skip', now: at('2026-03-10T12:00:30Z') })).toMatchObject({ fire: ['2026-03-10T12:00:00Z'], skipped: 3 });
      expect(run({ policy: 'skip', now: at('2026-03-10T12:00:30Z'), graceMs: 10_000 })).toMatchObject({ fire: [], skipped: 4 });
      expect(run({ policy: 'skip', now: at('2026-03-10T12:00:00Z'), graceMs: 0 })).toMatchObject({ fire: ['2026-03-10T12:00:00Z'], skipped: 3 });
    });

    it('fire_once fires only the latest missed occurrence, however late', () => {
      expect(run({ policy: 'fire_once' })).toEqual({ fire: ['2026-03-10T12:00:00Z'], skipped: 3, skippedExact: true, next: '2026-03-10T13:00:00Z' });
    });

    it('fire_all fires all of them, oldest first', () => {
      expect(run({ policy: 'fire_all' })).toEqual({
        fire: ['2026-03-10T09:00:00Z', '2026-03-10T10:00:00Z', '2026-03-10T11:00:00Z', '2026-03-10T12:00:00Z'],
        skipped: 0,
        skippedExact: true,
        next: '2026-03-10T13:00:00Z',
      });
    });

    it('fire_all keeps the most recent maxRuns and drops the oldest', () => {
      expect(run({ policy: 'fire_all', maxRuns: 2 })).toMatchObject({ fire: ['2026-03-10T11:00:00Z', '2026-03-10T12:00:00Z'], skipped: 2, skippedExact: true });
    });
  });

  it('fire_all is bounded by 100 by default', () => {
    const result = missedOccurrences({ next: cron('* * * * *'), lastPlanned: at('2026-03-10T09:00:00Z'), now: at('2026-03-10T12:00:00Z'), policy: 'fire_all' });
    expect(result.fire).toHaveLength(100);
    expect(iso(result.fire[0])).toBe('2026-03-10T10:21:00Z');
    expect(iso(result.fire[99])).toBe('2026-03-10T12:00:00Z');
    expect(result.skipped).toBe(81);
    expect(result.skippedExact).toBe(true);
    expect(iso(result.next)).toBe('2026-03-10T12:01:00Z');
  });

  it('follows the schedule through DST: the repeated hour counts twice for an hourly cron', () => {
    const result = missedOccurrences({
      next: cron('0 * * * *', 'Europe/Berlin'),
      lastPlanned: at('2026-10-24T23:00:00Z'), // 01:00 CEST
      now: at('2026-10-25T02:30:00Z'), // 03:30 CET
      policy: 'fire_all',
    });
    expect(result.fire.map(iso)).toEqual(['2026-10-24T23:00:00Z', '2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z']);
  });

  it('reports the end of a schedule', () => {
    const times = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'].map(Date.parse);
    const finite = (after: Date) => {
      const t = times.find((x) => x > after.getTime());
      return t === undefined ? null : new Date(t);
    };
    expect(missedOccurrences({ next: finite, lastPlanned: new Date(times[0]), now: at('2026-02-01T00:00:00Z'), policy: 'fire_all' })).toEqual({
      fire: times.map((t) => new Date(t)),
      skipped: 0,
      skippedExact: true,
      next: null,
    });
  });

  describe('long backlogs are not walked one by one', () => {
    const everySecond = cron('* * * * * *');

    it('finds the tail of a two-day per-second backlog with bounded work', () => {
      let calls = 0;
      const counted = (after: Date) => {
        calls++;
        return everySecond(after);
      };
      const now = at('2026-03-12T09:00:00.300Z');
      const result = missedOccurrences({ next: counted, lastPlanned: at('2026-03-10T09:00:00Z'), now, policy: 'fire_all' });
      expect(result.fire).toHaveLength(100);
      expect(iso(result.fire[0])).toBe('2026-03-12T08:58:21Z');
      expect(iso(result.fire[99])).toBe('2026-03-12T09:00:00Z');
      expect(iso(result.next)).toBe('2026-03-12T09:00:01Z');
      expect(result.skippedExact).toBe(false);
      expect(result.skipped).toBeGreaterThanOrEqual(10_000);
      expect(result.skipped).toBeLessThan(172_800);
      expect(calls).toBeLessThan(11_000);

      const once = missedOccurrences({ next: everySecond, lastPlanned: at('2026-03-10T09:00:00Z'), now, policy: 'fire_once' });
      expect(once.fire.map(iso)).toEqual(['2026-03-12T09:00:00Z']);
      const skip = missedOccurrences({ next: everySecond, lastPlanned: at('2026-03-10T09:00:00Z'), now, policy: 'skip' });
      expect(skip.fire.map(iso)).toEqual(['2026-03-12T09:00:00Z']); // within the grace
    });

    it.each([
      ['* 9 * * *', 'UTC', '2026-04-17T13:14:15Z'], // bursts: every minute of one hour a day
      ['*/10 * * * * *', 'Europe/Berlin', '2026-01-03T13:14:15Z'],
      ['0 0 * * MON', 'Pacific/Chatham', '2026-04-17T13:14:15Z'],
      ['0 * * * *', 'Australia/Lord_Howe', '2026-04-17T13:14:15Z'],
    ])('the windowed search returns what the exact walk returns for %j in %s', (expr, tz, nowText) => {
      const next = cron(expr, tz);
      const lastPlanned = at('2026-01-01T00:00:00Z');
      const now = at(nowText);
      const due: number[] = [];
      let t: Date | null = lastPlanned;
      while (t && t <= now) {
        due.push(t.getTime());
        t = next(t);
      }
      for (const maxRuns of [1, 7, 100]) {
        for (const policy of ['fire_all', 'fire_once'] as const) {
          const windowed = missedOccurrences({ next, lastPlanned, now, policy, maxRuns, scanLimit: 20 });
          const keep = Math.min(policy === 'fire_all' ? maxRuns : 1, due.length);
          expect(windowed.fire.map((d) => d.getTime())).toEqual(due.slice(-keep));
          expect(windowed.next).toEqual(t);
          expect(windowed.skipped).toBeLessThanOrEqual(due.length - keep);
          if (windowed.skippedExact) expect(windowed.skipped).toBe(due.length - keep);
        }
      }
    });
  });

  it('rejects a next function that does not move forward', () => {
    expect(() => missedOccurrences({ next: (d) => d, lastPlanned: at('2026-01-01T00:00:00Z'), now: at('2026-01-02T00:00:00Z'), policy: 'fire_all' })).toThrow(
      /not after it/,
    );
  });

  it('validates its options', () => {
    const base = { next: hourly, lastPlanned: at('2026-01-01T00:00:00Z'), now: at('2026-01-02T00:00:00Z') };
    expect(() => missedOccurrences({ ...base, policy: 'later' as never })).toThrow(/unknown policy "later"/);
    expect(() => missedOccurrences({ ...base, policy: 'fire_all', maxRuns: 0 })).toThrow(/maxRuns/);
    expect(() => missedOccurrences({ ...base, policy: 'skip', graceMs: -1 })).toThrow(/graceMs/);
    expect(() => missedOccurrences({ ...base, policy: 'skip', scanLimit: 0 })).toThrow(/scanLimit/);
    expect(() => missedOccurrences({ ...base, policy: 'skip', now: new Date('nope') })).toThrow(/`now` must be a valid Date/);
  });
});
