import { InvalidRecurrenceRuleError, parseRecurrenceRule } from '../../../../libs/common/src/time/index.js';
import { occurrencesInHorizon, roundRobin, taskAssignedEventId, taskGeneratedEventId } from './task-plan.js';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const days = (ds: Date[]) => ds.map((d) => d.toISOString().slice(0, 10));
const rule = (r: string, timezone: string, start: string, exdates?: string[]) => parseRecurrenceRule(r, { timezone, start, exdates });

describe('task occurrences in the tenant zone', () => {
  it('keeps 09:00 local across spring-forward and fall-back in Berlin', async () => {
    const weekly = rule('FREQ=WEEKLY;BYDAY=SU', 'Europe/Berlin', '2026-03-22T09:00');
    expect(iso(await occurrencesInHorizon(weekly, new Date('2026-03-21T00:00:00Z'), 14))).toEqual(['2026-03-22T08:00:00.000Z', '2026-03-29T07:00:00.000Z']);
    const autumn = rule('FREQ=WEEKLY;BYDAY=SU', 'Europe/Berlin', '2026-10-18T09:00');
    expect(iso(await occurrencesInHorizon(autumn, new Date('2026-10-17T00:00:00Z'), 14))).toEqual(['2026-10-18T07:00:00.000Z', '2026-10-25T08:00:00.000Z']);
  });

  it('a wall time in the spring-forward gap happens when the gap ends; a repeated one once, at its first occurrence', async () => {
    const gap = rule('FREQ=DAILY;COUNT=3', 'America/New_York', '2026-03-07T02:30');
    expect(iso(await occurrencesInHorizon(gap, new Date('2026-03-01T00:00:00Z'), 30))).toEqual([
      '2026-03-07T07:30:00.000Z', // EST
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT, when the gap ends
      '2026-03-09T06:30:00.000Z', // EDT
    ]);
    const twice = rule('FREQ=DAILY;COUNT=3', 'Europe/Berlin', '2026-10-24T02:30');
    expect(iso(await occurrencesInHorizon(twice, new Date('2026-10-01T00:00:00Z'), 30))).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of the two
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('monthly on the 31st skips months without one; BYMONTHDAY=-1 is the last day', async () => {
    const on31 = rule('FREQ=MONTHLY;BYMONTHDAY=31', 'UTC', '2026-01-31T12:00');
    expect(days(await occurrencesInHorizon(on31, new Date('2026-01-01T00:00:00Z'), 220))).toEqual(['2026-01-31', '2026-03-31', '2026-05-31', '2026-07-31']);
    const last = rule('FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3', 'UTC', '2028-01-01T12:00');
    expect(days(await occurrencesInHorizon(last, new Date('2028-01-01T00:00:00Z'), 120))).toEqual(['2028-01-31', '2028-02-29', '2028-03-31']);
  });

  it('the fifth Monday, the second Tuesday and the last weekday of the month', async () => {
    const fifth = rule('FREQ=MONTHLY;BYDAY=5MO', 'Europe/Berlin', '2026-01-01T10:00');
    expect(days(await occurrencesInHorizon(fifth, new Date('2026-01-01T00:00:00Z'), 366))).toEqual(['2026-03-30', '2026-06-29', '2026-08-31', '2026-11-30']);
    const second = rule('FREQ=MONTHLY;BYDAY=2TU;COUNT=2', 'UTC', '2026-01-01T10:00');
    expect(days(await occurrencesInHorizon(second, new Date('2026-01-01T00:00:00Z'), 366))).toEqual(['2026-01-13', '2026-02-10']);
    const lastWeekday = rule('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=4', 'UTC', '2026-01-01T16:00');
    expect(days(await occurrencesInHorizon(lastWeekday, new Date('2026-01-01T00:00:00Z'), 366))).toEqual(['2026-01-30', '2026-02-27', '2026-03-31', '2026-04-30']);
  });

  it('honours INTERVAL, UNTIL and EXDATE', async () => {
    const r = rule('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20260316T235959Z', 'UTC', '2026-01-05T09:00', ['2026-02-02T09:00']);
    expect(days(await occurrencesInHorizon(r, new Date('2026-01-01T00:00:00Z'), 366))).toEqual(['2026-01-05', '2026-01-19', '2026-02-16', '2026-03-02', '2026-03-16']);
  });

  it('refuses a rule that floods the horizon instead of expanding it', async () => {
    const minutely = rule('FREQ=MINUTELY', 'UTC', '2026-01-01T00:00');
    await expect(occurrencesInHorizon(minutely, new Date('2026-01-01T00:00:00Z'), 30)).rejects.toThrow(InvalidRecurrenceRuleError);
  });
});

describe('round-robin', () => {
  it('is even across runs because the cursor carries over', () => {
    const pool = ['ana', 'ben', 'cem'];
    const counts: Record<string, number> = {};
    let cursor = 0;
    for (const n of [4, 1, 5, 2, 3]) {
      for (const a of roundRobin(pool, cursor, n)) counts[a!] = (counts[a!] ?? 0) + 1;
      cursor += n;
    }
    expect(counts).toEqual({ ana: 5, ben: 5, cem: 5 });
  });

  it('assigns nobody when nobody holds the role', () => {
    expect(roundRobin([], 7, 2)).toEqual([null, null]);
  });
});

describe('event ids', () => {
  it('task.generated is `${templateId}:${occurrenceIso}`, with the revision after an edit', () => {
    const at = new Date('2026-03-16T08:00:00Z');
    expect(taskGeneratedEventId('t1', at, 1)).toBe('t1:2026-03-16T08:00:00.000Z');
    expect(taskGeneratedEventId('t1', at, 3)).toBe('t1:2026-03-16T08:00:00.000Z:r3');
    expect(taskAssignedEventId('i1', 'ana')).toBe('i1:assigned:ana');
  });
});
