import fc from 'fast-check';
import {
  InvalidRecurrenceRuleError,
  RecurrenceTooExpensiveError,
  instantToLocalDateTime,
  localDateTimeToInstant,
  nextOccurrence,
  occurrencesBetween,
  occurrencesBetweenInSlices,
  parseRecurrenceRule,
} from './recurrence-rule.js';

const DAY = 86_400_000;
const iso = (d: Date) => d.toISOString();

/** The occurrences in [from, to) expanded from DTSTART (a window starting at the rule's start is never rebased). */
function fromStart(rule: ReturnType<typeof parseRecurrenceRule>, from: Date, to: Date): string[] {
  const start = localDateTimeToInstant(rule.start, rule.timezone);
  return occurrencesBetween(rule, new Date(Math.min(start.getTime(), from.getTime())), to, { limit: 200_000, budgetMs: 10_000 })
    .filter((d) => d >= from)
    .map(iso);
}

describe('occurrencesBetween starts near the window, not at DTSTART', () => {
  it('FREQ=MINUTELY from 1990 answers a one-day window at once instead of iterating 19 million minutes', () => {
    const rule = parseRecurrenceRule('FREQ=MINUTELY;INTERVAL=7', { timezone: 'Europe/Berlin', start: '1990-01-01T00:00' });
    const from = new Date('2026-06-01T00:00:00Z');
    const t0 = performance.now();
    const got = occurrencesBetween(rule, from, new Date(from.getTime() + DAY), { budgetMs: 5_000 });
    const ms = performance.now() - t0;
    // 1440 / 7 minutes a day, on the 7-minute grid anchored at 1990-01-01T00:00 Berlin.
    expect(got.length).toBeGreaterThanOrEqual(205);
    expect(got.length).toBeLessThanOrEqual(206);
    // The grid is one of wall times (floating), like every RRULE here.
    const wall = (d: Date) => Date.parse(`${instantToLocalDateTime(d, 'Europe/Berlin')}Z`);
    expect(got.every((d) => (wall(d) - Date.UTC(1990, 0, 1)) % (7 * 60_000) === 0)).toBe(true);
    process.stdout.write(`FREQ=MINUTELY;INTERVAL=7 from 1990, one day in 2026: ${ms.toFixed(1)} ms\n`);
  });

  const cases: [string, string, string][] = [
    ['FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29', '2016-02-29T10:00', '2030-01-01'],
    ['FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO', '2016-01-04T08:00', '2027-12-20'],
    ['FREQ=YEARLY;BYYEARDAY=-1,1', '2016-01-01T09:00', '2026-12-30'],
    ['FREQ=MONTHLY;INTERVAL=5;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', '2016-03-01T16:00', '2026-07-15'],
    ['FREQ=MONTHLY;BYMONTHDAY=31', '2016-01-31T12:00', '2026-02-01'],
    ['FREQ=MONTHLY;INTERVAL=2', '2016-01-31T12:00', '2026-02-01'],
    ['FREQ=WEEKLY;INTERVAL=3;WKST=SU;BYDAY=SU,SA', '2016-06-08T07:30', '2026-06-01'],
    ['FREQ=WEEKLY;INTERVAL=2', '2016-06-08T07:30', '2026-06-01'],
    ['FREQ=DAILY;INTERVAL=9;BYHOUR=8,20;BYMINUTE=15', '2016-06-08T07:30', '2026-03-28'],
    ['FREQ=HOURLY;INTERVAL=5;BYDAY=MO', '2024-06-08T07:30', '2026-03-29'],
    ['FREQ=MINUTELY;INTERVAL=45;BYDAY=SA,SU', '2025-06-08T07:10:30', '2026-10-24'],
    ['FREQ=SECONDLY;INTERVAL=601;BYDAY=SU', '2026-01-01T00:00:07', '2026-10-25'],
    // Not rebased (rrule shifts their grid by where it starts), so trivially the same: bounded by the budget instead.
    ['FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10', '2025-06-08T07:10:30', '2026-10-24'],
  ];
  it.each(cases)('%s from %s: the same occurrences as an expansion from DTSTART', (text, start, day) => {
    const rule = parseRecurrenceRule(text, { timezone: 'Europe/Berlin', start });
    const from = new Date(`${day}T00:00:00Z`);
    const to = new Date(from.getTime() + 40 * DAY);
    expect(occurrencesBetween(rule, from, to, { limit: 200_000 }).map(iso)).toEqual(fromStart(rule, from, to));
  });

  it('holds for generated rules, starts and windows', () => {
    const freq = fc.constantFrom('YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY');
    const part = fc.record({
      interval: fc.integer({ min: 1, max: 6 }),
      bymonth: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 })),
      byday: fc.option(fc.uniqueArray(fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'), { minLength: 1, maxLength: 3 })),
      byhour: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 2 })),
      wkst: fc.constantFrom('MO', 'SU'),
    });
    fc.assert(
      fc.property(freq, part, fc.integer({ min: 0, max: 5 * 365 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 23 }), (f, p, startDays, windowDays, hour) => {
        const segments = [`FREQ=${f}`, `INTERVAL=${p.interval}`, `WKST=${p.wkst}`];
        if (p.bymonth) segments.push(`BYMONTH=${p.bymonth.join(',')}`);
        if (p.byday) segments.push(`BYDAY=${p.byday.join(',')}`);
        if (p.byhour && f !== 'HOURLY') segments.push(`BYHOUR=${p.byhour.join(',')}`);
        const startDate = new Date(Date.UTC(2021, 0, 1) + startDays * DAY);
        const start = `${startDate.toISOString().slice(0, 10)}T${String(hour).padStart(2, '0')}:20`;
        let rule;
        try {
          rule = parseRecurrenceRule(segments.join(';'), { timezone: 'America/New_York', start });
        } catch (e) {
          if (e instanceof InvalidRecurrenceRuleError) return; // a combination that can never occur
          throw e;
        }
        const from = new Date(startDate.getTime() + windowDays * DAY);
        const to = new Date(from.getTime() + 20 * DAY);
        expect(occurrencesBetween(rule, from, to, { limit: 200_000 }).map(iso)).toEqual(fromStart(rule, from, to));
      }),
      { numRuns: 150, seed: 20261201 },
    );
  });

  it('COUNT still counts from DTSTART', () => {
    const rule = parseRecurrenceRule('FREQ=DAILY;COUNT=5', { timezone: 'UTC', start: '2016-01-01T09:00' });
    expect(occurrencesBetween(rule, new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z'))).toEqual([]);
    expect(occurrencesBetween(rule, new Date('2016-01-03T00:00:00Z'), new Date('2016-02-01T00:00:00Z')).map(iso)).toEqual([
      '2016-01-03T09:00:00.000Z', '2016-01-04T09:00:00.000Z', '2016-01-05T09:00:00.000Z',
    ]);
  });

  it('nextOccurrence starts near the instant too', () => {
    const rule = parseRecurrenceRule('FREQ=MINUTELY;INTERVAL=3', { timezone: 'UTC', start: '1990-01-01T00:00' });
    expect(nextOccurrence(rule, new Date('2026-06-01T00:00:30Z'), { budgetMs: 5_000 })?.toISOString()).toBe('2026-06-01T00:03:00.000Z');
  });
});

describe('every expansion runs under a wall-clock budget', () => {
  it('refuses a rule rrule would iterate for seconds (to the year 9999) as too expensive', () => {
    // Every step is a week on the minute grid and lands on the start's weekday (Tuesday), never on Monday.
    const rule = parseRecurrenceRule('FREQ=MINUTELY;INTERVAL=10080;BYDAY=MO', { timezone: 'UTC', start: '2026-01-06T00:00' });
    expect(() => nextOccurrence(rule, new Date('2026-02-01T00:00:00Z'), { budgetMs: 50 })).toThrow(RecurrenceTooExpensiveError);
  });

  it('stops rrule loops that never return (a sub-daily rule with day filters)', () => {
    // rrule 2.8.1 loops forever in DateTime.addHours for this rule (hour += 24 never reaches BYHOUR=3).
    const rule = parseRecurrenceRule('FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=3;BYMINUTE=7', { timezone: 'UTC', start: '2026-01-06T00:00' });
    let error: unknown;
    try {
      occurrencesBetween(rule, new Date('2026-01-06T00:00:00Z'), new Date('2026-04-01T00:00:00Z'), { budgetMs: 100 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RecurrenceTooExpensiveError);
    expect(error).toBeInstanceOf(InvalidRecurrenceRuleError);
    expect((error as Error).message).toMatch(/longer than 100 ms/);
    // The process goes on: the next expansion works.
    const daily = parseRecurrenceRule('FREQ=DAILY', { timezone: 'UTC', start: '2026-01-01T09:00' });
    expect(occurrencesBetween(daily, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-03T00:00:00Z'))).toHaveLength(2);
  });
});

describe('occurrencesBetweenInSlices', () => {
  it.each([
    ['FREQ=HOURLY;INTERVAL=7', '2025-01-01T00:00'],
    ['FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9,17', '2024-03-05T09:00'],
    ['FREQ=MONTHLY;BYDAY=-1FR', '2020-02-28T08:00'],
    ['FREQ=DAILY;COUNT=400', '2025-12-01T06:30'],
    ['FREQ=MINUTELY;INTERVAL=90;BYHOUR=8,9,10', '2026-01-01T08:00'],
  ])('%s: the same occurrences as one call, whatever the slices', async (text, start) => {
    const rule = parseRecurrenceRule(text, { timezone: 'Europe/Berlin', start });
    const from = new Date('2026-01-10T00:00:00Z');
    const to = new Date('2026-08-01T00:00:00Z');
    const whole = occurrencesBetween(rule, from, to, { limit: 100_000 }).map(iso);
    expect((await occurrencesBetweenInSlices(rule, from, to, { limit: 100_000, sliceMs: 9 * DAY })).map(iso)).toEqual(whole);
  });

  it('counts the limit over the whole window and gives each slice a turn', async () => {
    const rule = parseRecurrenceRule('FREQ=HOURLY;BYHOUR=9', { timezone: 'UTC', start: '2026-01-01T09:00' });
    let turns = 0;
    const turn = async <T>(work: () => T) => (turns++, work());
    const from = new Date('2026-01-01T00:00:00Z');
    expect(await occurrencesBetweenInSlices(rule, from, new Date('2026-03-01T00:00:00Z'), { limit: 59, sliceMs: 10 * DAY, turn })).toHaveLength(59);
    expect(turns).toBe(6);
    await expect(occurrencesBetweenInSlices(rule, from, new Date('2026-03-02T00:00:00Z'), { limit: 59, sliceMs: 10 * DAY })).rejects.toThrow(RangeError);
  });

  it('refuses a rule whose slice exceeds the budget', async () => {
    const rule = parseRecurrenceRule('FREQ=MINUTELY;INTERVAL=10080;BYDAY=MO', { timezone: 'UTC', start: '2026-01-06T00:00' });
    await expect(occurrencesBetweenInSlices(rule, new Date('2026-02-01T00:00:00Z'), new Date('2026-06-01T00:00:00Z'), { budgetMs: 50 })).rejects.toThrow(RecurrenceTooExpensiveError);
  });
});
