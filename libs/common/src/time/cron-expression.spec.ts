import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import {
  InvalidCronError,
  InvalidTimezoneError,
  describeTimezone,
  isValidTimezone,
  nextFireTime,
  nextFireTimes,
  parseCron,
} from './cron-expression.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const iso = (d: Date | null) => (d === null ? null : d.toISOString().replace('.000Z', 'Z'));
const at = (s: string) => new Date(s);

function fires(expr: string, tz: string, after: string, count: number): string[] {
  return nextFireTimes(parseCron(expr), tz, at(after), count).map((d) => iso(d)!);
}

/** Fires with from <= t < to. */
function firesBetween(expr: string, tz: string, from: string, to: string): string[] {
  const spec = parseCron(expr);
  const out: string[] = [];
  let cursor = new Date(at(from).getTime() - 1);
  for (;;) {
    const next = nextFireTime(spec, tz, cursor);
    if (!next || next >= at(to)) return out;
    out.push(iso(next)!);
    cursor = next;
  }
}

const gapsInHours = (list: string[]) => list.slice(1).map((t, i) => (Date.parse(t) - Date.parse(list[i])) / HOUR);

/** Local wall clock of an instant, straight from the tz database (independent of the engine's caches). */
function wallOf(zone: IANAZone, ms: number): Date {
  return new Date(ms + Math.round(zone.offset(ms) * MINUTE));
}

describe('parseCron', () => {
  it('parses 5-field expressions with lists, ranges, steps and names', () => {
    const spec = parseCron('0,30 9-17/4 1,15 JAN-mar mon-FRI');
    expect(spec.hasSeconds).toBe(false);
    expect(spec.seconds).toEqual([0]);
    expect(spec.minutes).toEqual([0, 30]);
    expect(spec.hours).toEqual([9, 13, 17]);
    expect(spec.daysOfMonth).toEqual([1, 15]);
    expect(spec.months).toEqual([1, 2, 3]);
    expect(spec.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(spec.dayOfMonthRestricted).toBe(true);
    expect(spec.dayOfWeekRestricted).toBe(true);
  });

  it('parses 6-field expressions with seconds first', () => {
    const spec = parseCron('*/15 30 2 * * *');
    expect(spec.hasSeconds).toBe(true);
    expect(spec.seconds).toEqual([0, 15, 30, 45]);
    expect(spec.minutes).toEqual([30]);
    expect(spec.hours).toEqual([2]);
  });

  it('reads "a/n" as a, a+n, … up to the maximum and 7 or SUN as Sunday', () => {
    expect(parseCron('5/15 * * * *').minutes).toEqual([5, 20, 35, 50]);
    expect(parseCron('0 0 * * 7').daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 * * SAT-SUN').daysOfWeek).toEqual([0, 6]);
    expect(parseCron('0 0 * * 5-7').daysOfWeek).toEqual([0, 5, 6]);
    expect(parseCron('0 0 * * */2').daysOfWeek).toEqual([0, 2, 4, 6]);
  });

  it('treats ? as *', () => {
    const spec = parseCron('0 12 ? * ?');
    expect(spec.daysOfMonth).toHaveLength(31);
    expect(spec.daysOfWeek).toHaveLength(7);
    expect(spec.dayOfMonthRestricted).toBe(false);
    expect(spec.dayOfWeekRestricted).toBe(false);
  });

  it('accepts nicknames and normalises whitespace', () => {
    expect(parseCron('@daily').minutes).toEqual([0]);
    expect(parseCron('@HOURLY').fixedTime).toBe(false);
    expect(parseCron('@weekly').daysOfWeek).toEqual([0]);
    expect(parseCron('  0   2 *  * * ').expression).toBe('0 2 * * *');
    expect(String(parseCron('0 2 * * *'))).toBe('0 2 * * *');
  });

  it('classifies fixed-time schedules the way Vixie cron does (first character of second/minute/hour)', () => {
    expect(parseCron('30 2 * * *').fixedTime).toBe(true);
    expect(parseCron('0,30 9-17 * * *').fixedTime).toBe(true);
    expect(parseCron('0 8/2 * * *').fixedTime).toBe(true);
    expect(parseCron('0 30 2 * * *').fixedTime).toBe(true);
    expect(parseCron('0 * * * *').fixedTime).toBe(false);
    expect(parseCron('*/5 2 * * *').fixedTime).toBe(false);
    expect(parseCron('30 */2 * * *').fixedTime).toBe(false);
    expect(parseCron('* 30 2 * * *').fixedTime).toBe(false);
    expect(parseCron('* * * * * *').fixedTime).toBe(false);
  });

  describe('rejects bad expressions with InvalidCronError naming the field', () => {
    const cases: Array<[string, string | null, RegExp]> = [
      ['', null, /empty/],
      ['* * * *', null, /expected 5 fields .* or 6 .*, got 4/],
      ['* * * * * * *', null, /got 7/],
      ['60 * * * *', 'minute', /minute field "60": value 60 is out of range 0-59/],
      ['* 24 * * *', 'hour', /hour field "24": value 24 is out of range 0-23/],
      ['* * 0 * *', 'dayOfMonth', /day-of-month field "0": value 0 is out of range 1-31/],
      ['* * 32 * *', 'dayOfMonth', /out of range 1-31/],
      ['* * * 13 *', 'month', /month field "13"/],
      ['* * * FOO *', 'month', /"FOO" is not a valid value/],
      ['* * * * 8', 'dayOfWeek', /day-of-week field "8": value 8 is out of range 0-7/],
      ['* * * * MON-XYZ', 'dayOfWeek', /"XYZ" is not a valid value/],
      ['*/0 * * * *', 'minute', /step "0" must be a positive integer/],
      ['*/x * * * *', 'minute', /step "x"/],
      ['*/61 * * * *', 'minute', /step 61 is larger than/],
      ['1/2/3 * * * *', 'minute', /more than one "\/"/],
      ['5-1 * * * *', 'minute', /range 5-1 starts after it ends/],
      ['1- * * * *', 'minute', /not a valid range/],
      ['1,,2 * * * *', 'minute', /empty list item/],
      ['-5 * * * *', 'minute', /not a valid range/],
      ['0 0 L * *', 'dayOfMonth', /L, W and # extensions are not supported/],
      ['0 0 * * 5#3', 'dayOfWeek', /not supported/],
      ['0 0 30 2 *', 'dayOfMonth', /never fire/],
      ['0 0 31 4,6,9,11 *', 'dayOfMonth', /never fire/],
      ['60 * * * * *', 'second', /second field "60"/],
      ['@reboot', null, /unknown nickname "@reboot"/],
    ];
    it.each(cases)('%j', (expr, field, message) => {
      let error: unknown;
      try {
        parseCron(expr);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidCronError);
      expect(error).toBeInstanceOf(Error);
      const e = error as InvalidCronError;
      expect(e.name).toBe('InvalidCronError');
      expect(e.field).toBe(field);
      expect(e.expression).toBe(expr);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(JSON.stringify(expr));
    });
  });

  it('accepts day-of-month combinations that exist only sometimes', () => {
    expect(() => parseCron('0 0 29 2 *')).not.toThrow();
    expect(() => parseCron('0 0 30 2 MON')).not.toThrow(); // OR: every Monday of February
  });
});

describe('nextFireTime basics (UTC)', () => {
  it('is strictly after `after` and rounds sub-second instants up', () => {
    const spec = parseCron('* * * * * *');
    expect(iso(nextFireTime(spec, 'UTC', at('2026-01-01T10:00:00.000Z')))).toBe('2026-01-01T10:00:01Z');
    expect(iso(nextFireTime(spec, 'UTC', at('2026-01-01T10:00:00.500Z')))).toBe('2026-01-01T10:00:01Z');
    expect(iso(nextFireTime(parseCron('0 10 * * *'), 'UTC', at('2026-01-01T10:00:00Z')))).toBe('2026-01-02T10:00:00Z');
  });

  it('carries across minutes, hours, days, months and years', () => {
    expect(fires('59 23 31 12 *', 'UTC', '2026-06-01T00:00Z', 2)).toEqual(['2026-12-31T23:59:00Z', '2027-12-31T23:59:00Z']);
    expect(fires('0 0 1 * *', 'UTC', '2026-01-31T12:00Z', 2)).toEqual(['2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z']);
    expect(fires('*/20 59 23 * * *', 'UTC', '2026-12-31T23:58:50Z', 4)).toEqual([
      '2026-12-31T23:59:00Z',
      '2026-12-31T23:59:20Z',
      '2026-12-31T23:59:40Z',
      '2027-01-01T23:59:00Z',
    ]);
  });

  it('finds leap days years ahead', () => {
    expect(fires('0 12 29 2 *', 'UTC', '2026-01-01T00:00Z', 3)).toEqual([
      '2028-02-29T12:00:00Z',
      '2032-02-29T12:00:00Z',
      '2036-02-29T12:00:00Z',
    ]);
    // 2100 is not a leap year: 2096 is followed by 2104.
    expect(fires('0 0 29 2 *', 'UTC', '2096-03-01T00:00Z', 1)).toEqual(['2104-02-29T00:00:00Z']);
  });

  it('uses OR when both day fields are restricted and AND otherwise (Vixie)', () => {
    // Friday the 13th style: the 13th OR any Friday. March 2026: Fri 6, 13 (also the 13th), 20, 27.
    expect(fires('0 0 13 * FRI', 'UTC', '2026-03-01T00:00Z', 5)).toEqual([
      '2026-03-06T00:00:00Z',
      '2026-03-13T00:00:00Z',
      '2026-03-20T00:00:00Z',
      '2026-03-27T00:00:00Z',
      '2026-04-03T00:00:00Z',
    ]);
    // `*/2` is unrestricted for the OR rule but still filters: odd-numbered Mondays.
    expect(fires('0 0 */2 * MON', 'UTC', '2026-03-01T00:00Z', 3)).toEqual([
      '2026-03-09T00:00:00Z',
      '2026-03-23T00:00:00Z',
      '2026-04-13T00:00:00Z',
    ]);
    // Only a day-of-week restriction.
    expect(fires('0 9 * * MON-FRI', 'UTC', '2026-03-06T10:00Z', 2)).toEqual(['2026-03-09T09:00:00Z', '2026-03-10T09:00:00Z']);
  });

  it('returns fewer than count only when the schedule ends, and validates its inputs', () => {
    const spec = parseCron('0 0 * * *');
    expect(nextFireTimes(spec, 'UTC', at('2026-01-01T00:00Z'), 0)).toEqual([]);
    expect(() => nextFireTimes(spec, 'UTC', at('2026-01-01T00:00Z'), -1)).toThrow(RangeError);
    expect(() => nextFireTimes(spec, 'UTC', at('2026-01-01T00:00Z'), 1.5)).toThrow(RangeError);
    expect(() => nextFireTime(spec, 'UTC', new Date('nope'))).toThrow(RangeError);
    expect(() => nextFireTime(spec, 'Mars/Olympus_Mons', at('2026-01-01T00:00Z'))).toThrow(InvalidTimezoneError);
  });

  it('agrees with croner where no DST is involved', () => {
    const expressions = [
      '*/7 * * * *',
      '0 9-17/2 * * MON-FRI',
      '15,45 */3 1,15 * *',
      '0 0 13 * FRI',
      '30 4 1-7 * MON',
      '0 */5 * JAN,JUL *',
      '0 0 29 2 *',
      '*/15 30 * * * *',
      '5 4 3 2 1 *',
      '0 0 31 * *',
    ];
    for (const expr of expressions) {
      const ours = fires(expr, 'UTC', '2026-01-01T00:00:00Z', 200);
      const theirs = new Cron(expr, { timezone: 'UTC' }).nextRuns(200, at('2026-01-01T00:00:00Z')).map((d) => iso(d)!);
      expect({ expr, fires: ours }).toEqual({ expr, fires: theirs });
    }
    const saoPaulo = fires('30 2 * * *', 'America/Sao_Paulo', '2026-01-01T00:00Z', 30);
    const croner = new Cron('30 2 * * *', { timezone: 'America/Sao_Paulo' }).nextRuns(30, at('2026-01-01T00:00Z')).map((d) => iso(d)!);
    expect(saoPaulo).toEqual(croner);
  });
});

describe('DST policy (ARCHITECTURE.md invariant 6)', () => {
  describe('Europe/Berlin: spring forward 2026-03-29 02:00→03:00, fall back 2026-10-25 03:00→02:00', () => {
    it('daily 02:30 fires at the end of the gap (03:00 CEST = 01:00Z)', () => {
      expect(fires('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00Z', 3)).toEqual([
        '2026-03-28T01:30:00Z', // 02:30 CET
        '2026-03-29T01:00:00Z', // 02:30 does not exist → 03:00 CEST
        '2026-03-30T00:30:00Z', // 02:30 CEST
      ]);
    });

    it('daily 02:30 fires once, at the first of the two 02:30s', () => {
      expect(fires('30 2 * * *', 'Europe/Berlin', '2026-10-23T12:00Z', 3)).toEqual([
        '2026-10-24T00:30:00Z', // 02:30 CEST
        '2026-10-25T00:30:00Z', // first 02:30 (CEST); not again at 01:30Z (CET)
        '2026-10-26T01:30:00Z', // 02:30 CET
      ]);
    });

    it('after a restart during the repeated hour, a fixed 02:30 that already fired does not fire again', () => {
      const spec = parseCron('30 2 * * *');
      const firstOccurrence = at('2026-10-25T00:30:00Z');
      expect(iso(nextFireTime(spec, 'Europe/Berlin', firstOccurrence))).toBe('2026-10-26T01:30:00Z');
      // Restarting anywhere later in the repeated hour: inside the first pass, at the switch, inside the second pass.
      for (const restart of ['2026-10-25T00:45:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:15:00Z', '2026-10-25T01:30:00Z', '2026-10-25T01:59:59Z']) {
        expect(iso(nextFireTime(spec, 'Europe/Berlin', at(restart)))).toBe('2026-10-26T01:30:00Z');
      }
      // Before the first occurrence it is still ahead.
      expect(iso(nextFireTime(spec, 'Europe/Berlin', at('2026-10-25T00:29:59Z')))).toBe('2026-10-25T00:30:00Z');
      // A fixed 02:45 not yet reached in the first pass fires in the first pass, not the second.
      expect(iso(nextFireTime(parseCron('45 2 * * *'), 'Europe/Berlin', at('2026-10-25T00:40:00Z')))).toBe('2026-10-25T00:45:00Z');
    });

    it('just before the spring-forward instant the gap time is still ahead', () => {
      const spec = parseCron('30 2 * * *');
      expect(iso(nextFireTime(spec, 'Europe/Berlin', at('2026-03-29T00:59:59Z')))).toBe('2026-03-29T01:00:00Z');
      expect(iso(nextFireTime(spec, 'Europe/Berlin', at('2026-03-29T00:59:59.999Z')))).toBe('2026-03-29T01:00:00Z');
      expect(iso(nextFireTime(spec, 'Europe/Berlin', at('2026-03-29T01:00:00Z')))).toBe('2026-03-30T00:30:00Z');
    });

    it('several fixed times inside one gap collapse into one firing at its end', () => {
      expect(firesBetween('0,15,30,45 2 * * *', 'Europe/Berlin', '2026-03-28T23:00Z', '2026-03-29T22:00Z')).toEqual(['2026-03-29T01:00:00Z']);
      // 6-field with seconds: 02:15:30 is also in the gap.
      expect(firesBetween('30 15 2 * * *', 'Europe/Berlin', '2026-03-28T23:00Z', '2026-03-29T22:00Z')).toEqual(['2026-03-29T01:00:00Z']);
      expect(firesBetween('30 15 2 * * *', 'Europe/Berlin', '2026-10-24T22:00Z', '2026-10-25T23:00Z')).toEqual(['2026-10-25T00:15:30Z']);
    });

    it('hourly follows the clock: 23 fires on the short day, 25 on the long one, one per real hour', () => {
      const spring = firesBetween('0 * * * *', 'Europe/Berlin', '2026-03-28T23:00Z', '2026-03-29T22:00Z');
      expect(spring).toHaveLength(23);
      expect(new Set(gapsInHours(spring))).toEqual(new Set([1]));
      expect(spring.slice(0, 3)).toEqual(['2026-03-28T23:00:00Z', '2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z']); // 00:00, 01:00, 03:00

      const autumn = firesBetween('0 * * * *', 'Europe/Berlin', '2026-10-24T22:00Z', '2026-10-25T23:00Z');
      expect(autumn).toHaveLength(25);
      expect(new Set(gapsInHours(autumn))).toEqual(new Set([1]));
      expect(autumn.slice(1, 4)).toEqual(['2026-10-24T23:00:00Z', '2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z']); // 01:00, 02:00 CEST, 02:00 CET
    });

    it('a wildcard minute in a fixed hour fires in both passes of the repeated hour and not at all in the gap', () => {
      expect(firesBetween('*/30 2 * * *', 'Europe/Berlin', '2026-10-24T22:00Z', '2026-10-25T23:00Z')).toEqual([
        '2026-10-25T00:00:00Z',
        '2026-10-25T00:30:00Z',
        '2026-10-25T01:00:00Z',
        '2026-10-25T01:30:00Z',
      ]);
      expect(firesBetween('*/30 2 * * *', 'Europe/Berlin', '2026-03-28T23:00Z', '2026-03-29T22:00Z')).toEqual([]);
    });

    it('every second runs through both changes without skipping or repeating a real second', () => {
      expect(fires('* * * * * *', 'Europe/Berlin', '2026-03-29T00:59:58Z', 3)).toEqual(['2026-03-29T00:59:59Z', '2026-03-29T01:00:00Z', '2026-03-29T01:00:01Z']);
      expect(fires('* * * * * *', 'Europe/Berlin', '2026-10-25T00:59:58Z', 3)).toEqual(['2026-10-25T00:59:59Z', '2026-10-25T01:00:00Z', '2026-10-25T01:00:01Z']);
      const hour = fires('* * * * * *', 'Europe/Berlin', '2026-10-25T00:30:00Z', 3600);
      expect(hour[hour.length - 1]).toBe('2026-10-25T01:30:00Z');
    });
  });

  describe('America/New_York: 2026-03-08 02:00→03:00, 2026-11-01 02:00→01:00', () => {
    it('daily 02:30: gap → 03:00 EDT; on the fall-back day 02:30 exists once (EST)', () => {
      expect(fires('30 2 * * *', 'America/New_York', '2026-03-07T00:00Z', 3)).toEqual([
        '2026-03-07T07:30:00Z',
        '2026-03-08T07:00:00Z', // 03:00 EDT
        '2026-03-09T06:30:00Z',
      ]);
      expect(fires('30 2 * * *', 'America/New_York', '2026-10-31T00:00Z', 3)).toEqual([
        '2026-10-31T06:30:00Z',
        '2026-11-01T07:30:00Z', // 02:30 EST, the only 02:30
        '2026-11-02T07:30:00Z',
      ]);
    });

    it('daily 01:30 fires at the first (EDT) 01:30 of the repeated hour', () => {
      expect(fires('30 1 * * *', 'America/New_York', '2026-10-31T12:00Z', 2)).toEqual(['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']);
      expect(iso(nextFireTime(parseCron('30 1 * * *'), 'America/New_York', at('2026-11-01T05:30:00Z')))).toBe('2026-11-02T06:30:00Z');
    });

    it('hourly: 23 and 25 fires, one per real hour', () => {
      const spring = firesBetween('0 * * * *', 'America/New_York', '2026-03-08T05:00Z', '2026-03-09T04:00Z');
      expect(spring).toHaveLength(23);
      expect(new Set(gapsInHours(spring))).toEqual(new Set([1]));
      const autumn = firesBetween('0 * * * *', 'America/New_York', '2026-11-01T04:00Z', '2026-11-02T05:00Z');
      expect(autumn).toHaveLength(25);
      expect(new Set(gapsInHours(autumn))).toEqual(new Set([1]));
      expect(autumn).toEqual(expect.arrayContaining(['2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z'])); // 01:00 EDT and 01:00 EST
    });
  });

  describe('Australia/Sydney: back 2026-04-05 03:00→02:00, forward 2026-10-04 02:00→03:00', () => {
    it('daily 02:30', () => {
      expect(fires('30 2 * * *', 'Australia/Sydney', '2026-04-03T00:00Z', 3)).toEqual([
        '2026-04-03T15:30:00Z', // Apr 4 02:30 AEDT
        '2026-04-04T15:30:00Z', // Apr 5: first 02:30 (AEDT), not 16:30Z (AEST)
        '2026-04-05T16:30:00Z', // Apr 6 02:30 AEST
      ]);
      expect(fires('30 2 * * *', 'Australia/Sydney', '2026-10-02T00:00Z', 3)).toEqual([
        '2026-10-02T16:30:00Z', // Oct 3 02:30 AEST
        '2026-10-03T16:00:00Z', // Oct 4: gap → 03:00 AEDT
        '2026-10-04T15:30:00Z', // Oct 5 02:30 AEDT
      ]);
      expect(iso(nextFireTime(parseCron('30 2 * * *'), 'Australia/Sydney', at('2026-04-04T15:30:00Z')))).toBe('2026-04-05T16:30:00Z');
    });

    it('hourly: 25 and 23 fires', () => {
      const autumn = firesBetween('0 * * * *', 'Australia/Sydney', '2026-04-04T13:00Z', '2026-04-05T14:00Z');
      expect(autumn).toHaveLength(25);
      expect(new Set(gapsInHours(autumn))).toEqual(new Set([1]));
      const spring = firesBetween('0 * * * *', 'Australia/Sydney', '2026-10-03T14:00Z', '2026-10-04T13:00Z');
      expect(spring).toHaveLength(23);
      expect(new Set(gapsInHours(spring))).toEqual(new Set([1]));
    });
  });

  describe('America/Sao_Paulo: no DST in 2026', () => {
    it('daily 02:30 fires at 02:30 -03:00 (05:30Z) every day of the year', () => {
      const all = fires('30 2 * * *', 'America/Sao_Paulo', '2025-12-31T12:00Z', 365);
      expect(all[0]).toBe('2026-01-01T05:30:00Z');
      expect(all[364]).toBe('2026-12-31T05:30:00Z');
      expect(all.every((t) => t.endsWith('T05:30:00Z'))).toBe(true);
      expect(new Set(gapsInHours(all))).toEqual(new Set([24]));
    });

    it('hourly fires 24 times a day, including on the old DST dates', () => {
      expect(firesBetween('0 * * * *', 'America/Sao_Paulo', '2026-11-01T03:00Z', '2026-11-02T03:00Z')).toHaveLength(24);
      expect(firesBetween('0 * * * *', 'America/Sao_Paulo', '2026-02-15T03:00Z', '2026-02-16T03:00Z')).toHaveLength(24);
    });
  });

  describe('Australia/Lord_Howe: 30-minute shifts (back 2026-04-05 02:00→01:30, forward 2026-10-04 02:00→02:30)', () => {
    it('fixed times: a gap time fires when the half-hour gap ends, a repeated one at its first occurrence', () => {
      expect(fires('0 2 * * *', 'Australia/Lord_Howe', '2026-10-02T00:00Z', 3)).toEqual([
        '2026-10-02T15:30:00Z', // Oct 3 02:00 +10:30
        '2026-10-03T15:30:00Z', // Oct 4: 02:00 is in the gap → 02:30 +11
        '2026-10-04T15:00:00Z', // Oct 5 02:00 +11
      ]);
      expect(firesBetween('0,15,30 2 * * *', 'Australia/Lord_Howe', '2026-10-03T13:30Z', '2026-10-04T13:00Z')).toEqual(['2026-10-03T15:30:00Z']);
      expect(fires('45 1 * * *', 'Australia/Lord_Howe', '2026-04-03T00:00Z', 3)).toEqual([
        '2026-04-03T14:45:00Z', // Apr 4 01:45 +11
        '2026-04-04T14:45:00Z', // Apr 5: first 01:45 (+11), not 15:15Z (+10:30)
        '2026-04-05T15:15:00Z', // Apr 6 01:45 +10:30
      ]);
      expect(fires('30 2 * * *', 'Australia/Lord_Howe', '2026-04-04T00:00Z', 2)).toEqual(['2026-04-04T16:00:00Z', '2026-04-05T16:00:00Z']);
    });

    it('hourly follows the clock: 24 fires on the 24.5-hour day, 23 on the 23.5-hour day', () => {
      const autumn = firesBetween('0 * * * *', 'Australia/Lord_Howe', '2026-04-04T13:00Z', '2026-04-05T13:30Z');
      expect(autumn).toHaveLength(24);
      expect(autumn).toContain('2026-04-04T14:00:00Z'); // 01:00 +11
      expect(autumn).toContain('2026-04-04T15:30:00Z'); // 02:00 +10:30, 1.5 real hours later (no :00 repeats)
      const spring = firesBetween('0 * * * *', 'Australia/Lord_Howe', '2026-10-03T13:30Z', '2026-10-04T13:00Z');
      expect(spring).toHaveLength(23);
      expect(spring).not.toContain('2026-10-03T15:30:00Z'); // 02:00 does not exist; 03:00 +11 is 16:00Z
      expect(spring).toContain('2026-10-03T16:00:00Z');
    });

    it('every half hour fires once per real half hour through both changes', () => {
      const autumn = firesBetween('*/30 * * * *', 'Australia/Lord_Howe', '2026-04-04T13:00Z', '2026-04-05T13:30Z');
      expect(autumn).toHaveLength(49);
      expect(new Set(gapsInHours(autumn))).toEqual(new Set([0.5]));
      const spring = firesBetween('*/30 * * * *', 'Australia/Lord_Howe', '2026-10-03T13:30Z', '2026-10-04T13:00Z');
      expect(spring).toHaveLength(47);
      expect(new Set(gapsInHours(spring))).toEqual(new Set([0.5]));
    });
  });

  describe('Pacific/Chatham: offsets at :45 (back 2026-04-05 03:45→02:45, forward 2026-09-27 02:45→03:45)', () => {
    it('daily 02:30 is never affected; daily 03:00 meets the gap and the repeat', () => {
      expect(fires('30 2 * * *', 'Pacific/Chatham', '2026-04-03T00:00Z', 3)).toEqual([
        '2026-04-03T12:45:00Z',
        '2026-04-04T12:45:00Z', // Apr 5 02:30 +13:45
        '2026-04-05T13:45:00Z', // Apr 6 02:30 +12:45
      ]);
      expect(fires('30 2 * * *', 'Pacific/Chatham', '2026-09-25T00:00Z', 3)).toEqual([
        '2026-09-25T13:45:00Z',
        '2026-09-26T13:45:00Z', // Sep 27 02:30 +12:45, just before the gap
        '2026-09-27T12:45:00Z', // Sep 28 02:30 +13:45
      ]);
      expect(fires('0 3 * * *', 'Pacific/Chatham', '2026-04-03T00:00Z', 3)).toEqual([
        '2026-04-03T13:15:00Z',
        '2026-04-04T13:15:00Z', // first 03:00 (+13:45), not 14:15Z
        '2026-04-05T14:15:00Z',
      ]);
      expect(fires('0 3 * * *', 'Pacific/Chatham', '2026-09-25T00:00Z', 3)).toEqual([
        '2026-09-25T14:15:00Z',
        '2026-09-26T14:00:00Z', // 03:00 is in the gap → 03:45 +13:45
        '2026-09-27T13:15:00Z',
      ]);
    });

    it('hourly: 25 fires on the long day (03:00 twice), 23 on the short one (03:00 skipped)', () => {
      const autumn = firesBetween('0 * * * *', 'Pacific/Chatham', '2026-04-04T10:15Z', '2026-04-05T11:15Z');
      expect(autumn).toHaveLength(25);
      expect(autumn).toEqual(expect.arrayContaining(['2026-04-04T13:15:00Z', '2026-04-04T14:15:00Z']));
      expect(new Set(gapsInHours(autumn))).toEqual(new Set([1]));
      const spring = firesBetween('0 * * * *', 'Pacific/Chatham', '2026-09-26T11:15Z', '2026-09-27T10:15Z');
      expect(spring).toHaveLength(23);
      expect(new Set(gapsInHours(spring))).toEqual(new Set([1]));
    });
  });

  it('historic data too: São Paulo 2018, where midnight itself fell into the gap', () => {
    // DST began 2018-11-04 at 00:00 → 01:00 (-03:00 → -02:00).
    expect(fires('0 0 * * *', 'America/Sao_Paulo', '2018-11-02T12:00Z', 3)).toEqual([
      '2018-11-03T03:00:00Z',
      '2018-11-04T03:00:00Z', // 00:00 does not exist → 01:00 -02:00
      '2018-11-05T02:00:00Z',
    ]);
    expect(firesBetween('0 * * * *', 'America/Sao_Paulo', '2018-11-04T03:00Z', '2018-11-05T02:00Z')).toHaveLength(23);
  });

  describe('against a brute-force oracle for all of 2026', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'America/Sao_Paulo', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC'];
    const STEP = 15 * MINUTE; // every offset and transition of these zones is on a 15-minute grid
    const from = Date.UTC(2025, 11, 30);
    const to = Date.UTC(2027, 0, 2);

    it.each(zones)('%s', (tz) => {
      const zone = IANAZone.create(tz);
      const grid: Array<{ t: number; wall: Date }> = [];
      for (let t = from; t < to; t += STEP) grid.push({ t, wall: wallOf(zone, t) });

      // Clock-following: exactly the instants whose wall clock matches.
      const hourly = grid.filter((g) => g.wall.getUTCMinutes() === 0).map((g) => g.t);
      const halfHourly = grid.filter((g) => g.wall.getUTCMinutes() % 30 === 0).map((g) => g.t);
      // Fixed: for each wall time W, the first instant whose wall clock reads W or later.
      const fixed = (walls: number[]) => {
        const out = new Set<number>();
        let i = 0;
        for (const w of walls) {
          while (i < grid.length && grid[i].wall.getTime() < w) i++;
          if (i < grid.length) out.add(grid[i].t);
        }
        return [...out];
      };
      const wallsAt = (hour: number, minutes: number[]) => {
        const walls: number[] = [];
        for (let d = Date.UTC(2026, 0, 1); d < Date.UTC(2027, 0, 1); d += DAY) for (const m of minutes) walls.push(d + hour * HOUR + m * MINUTE);
        return walls;
      };
      const within = (list: number[]) => list.filter((t) => t >= Date.UTC(2026, 0, 1, 12) && t < Date.UTC(2026, 11, 31, 12));

      const engine = (expr: string) =>
        firesBetween(expr, tz, new Date(Date.UTC(2026, 0, 1, 12)).toISOString(), new Date(Date.UTC(2026, 11, 31, 12)).toISOString()).map(Date.parse);
      expect(engine('0 * * * *')).toEqual(within(hourly));
      expect(engine('*/30 * * * *')).toEqual(within(halfHourly));
      expect(engine('30 2 * * *')).toEqual(within(fixed(wallsAt(2, [30]))));
      expect(engine('0,15,30,45 2 * * *')).toEqual(within(fixed(wallsAt(2, [0, 15, 30, 45]))));
      expect(engine('45 1 * * *')).toEqual(within(fixed(wallsAt(1, [45]))));
      expect(engine('0 3 * * *')).toEqual(within(fixed(wallsAt(3, [0]))));
    });
  });
});

describe('timezones', () => {
  it('isValidTimezone accepts IANA names and rejects offsets and unknown names', () => {
    for (const tz of ['Europe/Berlin', 'America/Sao_Paulo', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC', 'Etc/GMT+5', 'US/Eastern']) {
      expect(isValidTimezone(tz)).toBe(true);
    }
    for (const tz of ['+01:00', 'Z', '', 'Mars/Olympus_Mons', 'Europe/Berlin ', 123, null, undefined]) {
      expect(isValidTimezone(tz)).toBe(false);
    }
  });

  it('describeTimezone reports offset, DST and the next transition', () => {
    expect(describeTimezone('Europe/Berlin', at('2026-03-01T00:00Z'))).toEqual({
      name: 'Europe/Berlin',
      offsetMinutes: 60,
      offset: '+01:00',
      abbreviation: expect.any(String),
      observesDst: true,
      nextTransition: { at: at('2026-03-29T01:00:00Z'), offsetMinutesBefore: 60, offsetMinutesAfter: 120, kind: 'spring_forward' },
    });
    expect(describeTimezone('America/New_York', at('2026-07-01T00:00Z')).abbreviation).toBe('EDT');
    expect(describeTimezone('Australia/Lord_Howe', at('2026-03-01T00:00Z')).nextTransition).toEqual({
      at: at('2026-04-04T15:00:00Z'),
      offsetMinutesBefore: 660,
      offsetMinutesAfter: 630,
      kind: 'fall_back',
    });
    const chatham = describeTimezone('Pacific/Chatham', at('2026-06-01T00:00Z'));
    expect(chatham.offset).toBe('+12:45');
    expect(chatham.nextTransition?.at).toEqual(at('2026-09-26T14:00:00Z'));
    expect(chatham.nextTransition?.offsetMinutesAfter).toBe(825);
    const saoPaulo = describeTimezone('America/Sao_Paulo', at('2026-06-01T00:00Z'));
    expect(saoPaulo).toMatchObject({ offset: '-03:00', observesDst: false, nextTransition: null });
    expect(describeTimezone('US/Eastern', at('2026-06-01T00:00Z')).name).toBe('America/New_York');
    expect(() => describeTimezone('Nowhere/Land')).toThrow(InvalidTimezoneError);
    expect(() => describeTimezone('Nowhere/Land')).toThrow(/Invalid timezone "Nowhere\/Land"/);
  });
});

describe('performance', () => {
  it('next fire of `* * * * * *` costs microseconds', () => {
    const spec = parseCron('* * * * * *');
    let t = at('2026-01-01T00:00:00Z');
    for (let i = 0; i < 1_000; i++) t = nextFireTime(spec, 'Europe/Berlin', t)!; // warm up
    const n = 100_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) t = nextFireTime(spec, 'Europe/Berlin', t)!;
    const microsPerCall = ((performance.now() - started) * 1_000) / n;
    expect(iso(t)).toBe('2026-01-02T04:03:20Z'); // 101,000 seconds after the start
    expect(microsPerCall).toBeLessThan(20);
  });

  it('fixed and sparse schedules are fast too (no minute-by-minute scanning)', () => {
    const specs = ['30 2 * * *', '0 0 29 2 *', '0 9 * * MON-FRI', '0 0 1 1 *'].map((e) => parseCron(e));
    const started = performance.now();
    for (let i = 0; i < 5_000; i++) for (const spec of specs) nextFireTime(spec, 'Pacific/Chatham', new Date(Date.UTC(2026, 0, 1) + i * 3_600_000));
    const microsPerCall = ((performance.now() - started) * 1_000) / 20_000;
    expect(microsPerCall).toBeLessThan(200);
  });
});
