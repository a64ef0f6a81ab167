import { InvalidTimezoneError } from './cron-expression.js';
import {
  InvalidRecurrenceRuleError,
  RecurrenceRule,
  instantToLocalDateTime,
  localDateTimeToInstant,
  nextOccurrence,
  occurrencesBetween,
  parseRecurrenceRule,
  type RecurrenceRuleOptions,
} from './recurrence-rule.js';

const at = (s: string) => new Date(s);
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

function utc(rule: string, options: RecurrenceRuleOptions, from: string, to: string): string[] {
  return occurrencesBetween(parseRecurrenceRule(rule, options), at(from), at(to)).map(iso);
}

/** Occurrences as local wall times in the rule's zone: readable calendar assertions. */
function local(rule: string, options: RecurrenceRuleOptions, from: string, to: string): string[] {
  const parsed = parseRecurrenceRule(rule, options);
  return occurrencesBetween(parsed, at(from), at(to)).map((d) => instantToLocalDateTime(d, parsed.timezone).slice(0, 16));
}

const berlin = (start: string, exdates?: string[]): RecurrenceRuleOptions => ({ timezone: 'Europe/Berlin', start, exdates });
const YEAR_2026: [string, string] = ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'];

describe('parseRecurrenceRule', () => {
  it('normalises the rule, the start and the exclusions', () => {
    const rule = parseRecurrenceRule('rrule:byday=mo,we;freq=weekly;interval=2;', {
      timezone: 'US/Eastern',
      start: '2026-01-05 09:00',
      exdates: ['20260119T090000', '2026-02-02'],
    });
    expect(rule).toBeInstanceOf(RecurrenceRule);
    expect(rule.rule).toBe('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE');
    expect(rule.timezone).toBe('America/New_York');
    expect(rule.start).toBe('2026-01-05T09:00:00');
    expect(rule.exdates).toEqual(['2026-01-19T09:00:00', '2026-02-02']);
    expect(rule.frequency).toBe('WEEKLY');
    expect(rule.interval).toBe(2);
    expect(rule.count).toBeNull();
    expect(rule.isFinite).toBe(false);
    expect(parseRecurrenceRule('FREQ=DAILY;COUNT=3', berlin('2026-01-05T09:00')).isFinite).toBe(true);
  });

  describe('rejects bad input with InvalidRecurrenceRuleError', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['BYDAY=MO', /FREQ is required/],
      ['FREQ=FOO', /FREQ=FOO is not one of YEARLY, MONTHLY/],
      ['FREQ=DAILY;FOO=1', /unknown rule part "FOO"/],
      ['FREQ=DAILY;FREQ=WEEKLY', /FREQ is given more than once/],
      ['FREQ=DAILY;INTERVAL=0', /INTERVAL=0 must be a positive integer/],
      ['FREQ=DAILY;INTERVAL=abc', /INTERVAL=ABC must be a positive integer/],
      ['FREQ=DAILY;COUNT=-1', /COUNT=-1 must be a positive integer/],
      ['FREQ=DAILY;COUNT=2;UNTIL=20260301', /COUNT and UNTIL must not both be given/],
      ['FREQ=DAILY;UNTIL=garbage', /UNTIL=GARBAGE must be a date/],
      ['FREQ=DAILY;UNTIL=20260231', /UNTIL=20260231 must be a date/],
      ['FREQ=DAILY;UNTIL=20250101', /UNTIL=20250101 is before the start/],
      ['FREQ=MONTHLY;BYMONTHDAY=40', /BYMONTHDAY=40: 40 is out of range \(1\.\.31 or -31\.\.-1\)/],
      ['FREQ=MONTHLY;BYMONTHDAY=0', /out of range/],
      ['FREQ=DAILY;BYHOUR=24', /BYHOUR=24: 24 is out of range \(0\.\.23\)/],
      ['FREQ=WEEKLY;BYDAY=XX', /BYDAY=XX: "XX" is not a weekday/],
      ['FREQ=WEEKLY;BYDAY=2MO', /BYDAY ordinals like 2MO need FREQ=MONTHLY or FREQ=YEARLY/],
      ['FREQ=MONTHLY;BYDAY=6MO', /BYDAY ordinal 6 never occurs/],
      ['FREQ=MONTHLY;BYDAY=0MO', /ordinal of "0MO" must be/],
      ['FREQ=WEEKLY;BYMONTHDAY=1', /BYMONTHDAY is not allowed with FREQ=WEEKLY/],
      ['FREQ=MONTHLY;BYWEEKNO=3', /BYWEEKNO is only allowed with FREQ=YEARLY/],
      ['FREQ=DAILY;BYYEARDAY=3', /BYYEARDAY is not allowed with FREQ=DAILY/],
      ['FREQ=MONTHLY;BYSETPOS=1', /BYSETPOS needs another BYxxx part/],
      ['FREQ=DAILY;WKST=XX', /WKST=XX must be one of/],
      ['FREQ=DAILY;BYHOUR', /"BYHOUR" is not a NAME=VALUE part/],
      ['DTSTART:20260105T090000\nRRULE:FREQ=DAILY', /only a single RRULE value/],
      // Recognisably impossible rules, which would make rrule iterate to the year 9999:
      ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', /never occur/],
      ['FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31', /never occur/],
      ['FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6', /BYSETPOS=6 can never select anything: each monthly period has at most 5/],
      ['FREQ=MONTHLY;INTERVAL=12;BYMONTH=6', /never reaches BYMONTH=6/],
      ['FREQ=DAILY;INTERVAL=7;BYDAY=TU', /only ever lands on the start's weekday/],
      ['FREQ=HOURLY;INTERVAL=2;BYHOUR=4', /never lands on the selected BYHOUR/],
    ];
    it.each(cases)('%j', (rule, message) => {
      const started = performance.now();
      let error: unknown;
      try {
        parseRecurrenceRule(rule, berlin('2026-01-05T09:00')); // a Monday
      } catch (e) {
        error = e;
      }
      expect(performance.now() - started).toBeLessThan(500);
      expect(error).toBeInstanceOf(InvalidRecurrenceRuleError);
      const e = error as InvalidRecurrenceRuleError;
      expect(e.name).toBe('InvalidRecurrenceRuleError');
      expect(e.field).toBe('rule');
      expect(e.rule).toBe(rule);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`Invalid recurrence rule ${JSON.stringify(rule)}`);
    });

    it('a YEARLY rule whose start day does not exist in BYMONTH (30th → February)', () => {
      expect(() => parseRecurrenceRule('FREQ=YEARLY;BYMONTH=2', berlin('2026-01-30T09:00'))).toThrow(/never occur/);
      expect(() => parseRecurrenceRule('FREQ=YEARLY;BYMONTH=2', berlin('2026-01-29T09:00'))).not.toThrow(); // leap years
    });

    it('an invalid timezone', () => {
      let error: unknown;
      try {
        parseRecurrenceRule('FREQ=DAILY', { timezone: 'Mars/Olympus_Mons', start: '2026-01-05T09:00' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidRecurrenceRuleError);
      expect((error as InvalidRecurrenceRuleError).field).toBe('timezone');
      expect((error as Error).message).toMatch(/Invalid timezone "Mars\/Olympus_Mons"/);
      expect((error as Error).cause).toBeInstanceOf(InvalidTimezoneError);
      expect(() => parseRecurrenceRule('FREQ=DAILY', { timezone: '+01:00', start: '2026-01-05T09:00' })).toThrow(InvalidRecurrenceRuleError);
    });

    it('an invalid start or exdate', () => {
      for (const start of ['2026-01-05T09:00:00Z', '2026-01-05T09:00+01:00', '2026-02-30T09:00', '2026-01-05T25:00', 'tomorrow', '']) {
        expect(() => parseRecurrenceRule('FREQ=DAILY', berlin(start))).toThrow(expect.objectContaining({ field: 'start' }));
      }
      expect(() => parseRecurrenceRule('FREQ=DAILY', berlin('2026-01-05T09:00', ['2026-13-01T09:00']))).toThrow(
        expect.objectContaining({ field: 'exdates', message: expect.stringMatching(/exdate "2026-13-01T09:00"/) }),
      );
    });
  });
});

describe('occurrencesBetween: calendar rules', () => {
  it('monthly on the 31st only in months with 31 days (RFC 5545)', () => {
    const expected = ['2026-01-31T10:00', '2026-03-31T10:00', '2026-05-31T10:00', '2026-07-31T10:00', '2026-08-31T10:00', '2026-10-31T10:00', '2026-12-31T10:00'];
    expect(local('FREQ=MONTHLY;BYMONTHDAY=31', berlin('2026-01-01T10:00'), ...YEAR_2026)).toEqual(expected);
    expect(local('FREQ=MONTHLY', berlin('2026-01-31T10:00'), ...YEAR_2026)).toEqual(expected); // day taken from the start
  });

  it('the last day of the month (BYMONTHDAY=-1)', () => {
    expect(local('FREQ=MONTHLY;BYMONTHDAY=-1', berlin('2026-01-01T18:00'), '2026-01-01T00:00Z', '2026-05-01T00:00Z')).toEqual([
      '2026-01-31T18:00',
      '2026-02-28T18:00',
      '2026-03-31T18:00',
      '2026-04-30T18:00',
    ]);
    expect(local('FREQ=MONTHLY;BYMONTHDAY=-1', berlin('2028-01-01T18:00'), '2028-02-01T00:00Z', '2028-03-01T00:00Z')).toEqual(['2028-02-29T18:00']);
  });

  it('the fifth Monday, only in months that have one', () => {
    expect(local('FREQ=MONTHLY;BYDAY=5MO', berlin('2026-01-01T09:00'), ...YEAR_2026)).toEqual([
      '2026-03-30T09:00',
      '2026-06-29T09:00',
      '2026-08-31T09:00',
      '2026-11-30T09:00',
    ]);
  });

  it('the last weekday of the month (BYDAY=MO..FR;BYSETPOS=-1) and the last Friday (-1FR)', () => {
    expect(local('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1', berlin('2026-01-01T17:00'), ...YEAR_2026).map((t) => t.slice(0, 10))).toEqual([
      '2026-01-30',
      '2026-02-27',
      '2026-03-31',
      '2026-04-30',
      '2026-05-29',
      '2026-06-30',
      '2026-07-31',
      '2026-08-31',
      '2026-09-30',
      '2026-10-30',
      '2026-11-30',
      '2026-12-31',
    ]);
    expect(local('FREQ=MONTHLY;BYDAY=-1FR', berlin('2026-01-01T17:00'), '2026-01-01T00:00Z', '2026-04-01T00:00Z')).toEqual([
      '2026-01-30T17:00',
      '2026-02-27T17:00',
      '2026-03-27T17:00',
    ]);
  });

  it('the second Tuesday', () => {
    expect(local('FREQ=MONTHLY;BYDAY=2TU', berlin('2026-01-01T14:30'), '2026-01-01T00:00Z', '2026-07-01T00:00Z')).toEqual([
      '2026-01-13T14:30',
      '2026-02-10T14:30',
      '2026-03-10T14:30',
      '2026-04-14T14:30',
      '2026-05-12T14:30',
      '2026-06-09T14:30',
    ]);
  });

  it('COUNT counts from the start, whatever the window', () => {
    const options = berlin('2026-01-05T09:00');
    expect(local('FREQ=WEEKLY;COUNT=3', options, ...YEAR_2026)).toEqual(['2026-01-05T09:00', '2026-01-12T09:00', '2026-01-19T09:00']);
    expect(local('FREQ=WEEKLY;COUNT=3', options, '2026-01-10T00:00Z', '2027-01-01T00:00Z')).toEqual(['2026-01-12T09:00', '2026-01-19T09:00']);
  });

  it('UNTIL as a local date-time, a date (the whole day) or a UTC instant', () => {
    const options = berlin('2026-01-05T09:00');
    const week = ['2026-01-05T09:00', '2026-01-06T09:00', '2026-01-07T09:00'];
    expect(local('FREQ=DAILY;UNTIL=20260107T090000', options, ...YEAR_2026)).toEqual(week);
    expect(local('FREQ=DAILY;UNTIL=20260107T085959', options, ...YEAR_2026)).toEqual(week.slice(0, 2));
    expect(local('FREQ=DAILY;UNTIL=20260107', options, ...YEAR_2026)).toEqual(week);
    expect(local('FREQ=DAILY;UNTIL=20260107T080000Z', options, ...YEAR_2026)).toEqual(week); // 09:00 CET
    expect(local('FREQ=DAILY;UNTIL=20260107T075959Z', options, ...YEAR_2026)).toEqual(week.slice(0, 2));
  });

  it('UNTIL in UTC is exact inside a repeated hour', () => {
    // Every 30 minutes from midnight on the fall-back day; 02:00 and 02:30 happen at their first (CEST) occurrence.
    expect(utc('FREQ=MINUTELY;INTERVAL=30;UNTIL=20261025T003000Z', berlin('2026-10-25T00:00'), '2026-10-24T00:00Z', '2026-10-26T00:00Z')).toEqual([
      '2026-10-24T22:00:00Z',
      '2026-10-24T22:30:00Z',
      '2026-10-24T23:00:00Z',
      '2026-10-24T23:30:00Z',
      '2026-10-25T00:00:00Z',
      '2026-10-25T00:30:00Z',
    ]);
  });

  it('EXDATE removes occurrences by local wall time, or whole local days', () => {
    expect(
      local('FREQ=WEEKLY;BYDAY=MO,WE', berlin('2026-01-05T09:00', ['2026-01-07T09:00', '2026-01-12']), '2026-01-01T00:00Z', '2026-01-20T00:00Z'),
    ).toEqual(['2026-01-05T09:00', '2026-01-14T09:00', '2026-01-19T09:00']);
    // An exdate that matches no occurrence changes nothing.
    expect(local('FREQ=DAILY;COUNT=2', berlin('2026-01-05T09:00', ['2026-01-05T09:30']), ...YEAR_2026)).toEqual(['2026-01-05T09:00', '2026-01-06T09:00']);
  });

  it('occurrences only from the start on; windows are half-open and tile without repeats', () => {
    const rule = parseRecurrenceRule('FREQ=DAILY', berlin('2026-01-05T09:00'));
    expect(occurrencesBetween(rule, at('2026-01-01T00:00Z'), at('2026-01-06T00:00Z')).map(iso)).toEqual(['2026-01-05T08:00:00Z']);
    expect(occurrencesBetween(rule, at('2026-01-05T08:00Z'), at('2026-01-06T08:00Z')).map(iso)).toEqual(['2026-01-05T08:00:00Z']);
    const tiled = [0, 1, 2, 3].flatMap((i) => occurrencesBetween(rule, new Date(Date.parse('2026-01-05T08:00Z') + i * 86_400_000), new Date(Date.parse('2026-01-06T08:00Z') + i * 86_400_000)));
    expect(tiled.map(iso)).toEqual(['2026-01-05T08:00:00Z', '2026-01-06T08:00:00Z', '2026-01-07T08:00:00Z', '2026-01-08T08:00:00Z']);
    expect(occurrencesBetween(rule, at('2026-02-01T00:00Z'), at('2026-01-01T00:00Z'))).toEqual([]);
  });

  it('refuses to return more than the limit', () => {
    const rule = parseRecurrenceRule('FREQ=MINUTELY', berlin('2026-01-01T00:00'));
    expect(() => occurrencesBetween(rule, at('2026-01-01T00:00Z'), at('2026-01-31T00:00Z'))).toThrow(/more than 10000 occurrences/);
    expect(occurrencesBetween(rule, at('2026-01-01T00:00Z'), at('2026-01-01T01:00Z'), { limit: 60 })).toHaveLength(60);
    expect(() => occurrencesBetween(rule, new Date('nope'), at('2026-01-01T01:00Z'))).toThrow(RangeError);
  });
});

describe('occurrencesBetween: DST (fixed-time policy for every occurrence)', () => {
  it('weekly 09:00 in Berlin stays at 09:00 local before and after both changes', () => {
    expect(utc('FREQ=WEEKLY;BYDAY=MO', berlin('2026-03-16T09:00'), '2026-03-16T00:00Z', '2026-04-07T00:00Z')).toEqual([
      '2026-03-16T08:00:00Z', // CET
      '2026-03-23T08:00:00Z',
      '2026-03-30T07:00:00Z', // CEST
      '2026-04-06T07:00:00Z',
    ]);
    expect(utc('FREQ=WEEKLY;BYDAY=MO', berlin('2026-03-16T09:00'), '2026-10-19T00:00Z', '2026-10-27T00:00Z')).toEqual([
      '2026-10-19T07:00:00Z',
      '2026-10-26T08:00:00Z',
    ]);
  });

  it('daily 02:30 in Berlin: the gap day fires at 03:00 (not 03:30 as RFC 5545 §3.3.5 would), the repeated day once, first', () => {
    expect(utc('FREQ=DAILY', berlin('2026-03-27T02:30'), '2026-03-27T00:00Z', '2026-03-31T00:00Z')).toEqual([
      '2026-03-27T01:30:00Z',
      '2026-03-28T01:30:00Z',
      '2026-03-29T01:00:00Z', // 03:00 CEST, the end of the gap
      '2026-03-30T00:30:00Z',
    ]);
    expect(utc('FREQ=DAILY', berlin('2026-10-24T02:30'), '2026-10-24T00:00Z', '2026-10-27T00:00Z')).toEqual([
      '2026-10-24T00:30:00Z',
      '2026-10-25T00:30:00Z', // first 02:30 (CEST) only
      '2026-10-26T01:30:00Z',
    ]);
  });

  it('a rule whose start itself falls in the gap', () => {
    const rule = parseRecurrenceRule('FREQ=DAILY;COUNT=2', berlin('2026-03-29T02:30'));
    expect(occurrencesBetween(rule, at('2026-03-01T00:00Z'), at('2026-04-01T00:00Z')).map(iso)).toEqual(['2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']);
  });

  it('hourly rules: wall times in the gap collapse into its end; repeated ones happen once', () => {
    const spring = utc('FREQ=HOURLY', berlin('2026-03-29T00:00'), '2026-03-28T23:00Z', '2026-03-29T22:00Z');
    expect(spring).toHaveLength(23); // 02:00 → 03:00, which also is 03:00 itself
    expect(spring.slice(0, 3)).toEqual(['2026-03-28T23:00:00Z', '2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z']);
    const autumn = utc('FREQ=HOURLY', berlin('2026-10-25T00:00'), '2026-10-24T22:00Z', '2026-10-25T23:00Z');
    expect(autumn).toHaveLength(24); // 24 wall hours on a 25-hour day: the second 02:00 does not occur
    expect(autumn.slice(1, 4)).toEqual(['2026-10-24T23:00:00Z', '2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z']);
  });

  it('half-hour and :45 zones (Lord Howe, Chatham)', () => {
    expect(utc('FREQ=DAILY', { timezone: 'Australia/Lord_Howe', start: '2026-10-03T02:00' }, '2026-10-02T00:00Z', '2026-10-05T00:00Z')).toEqual([
      '2026-10-02T15:30:00Z', // 02:00 +10:30
      '2026-10-03T15:30:00Z', // gap 02:00-02:30 → 02:30 +11
      '2026-10-04T15:00:00Z', // 02:00 +11
    ]);
    expect(utc('FREQ=DAILY', { timezone: 'Pacific/Chatham', start: '2026-04-04T03:00' }, '2026-04-03T00:00Z', '2026-04-06T00:00Z')).toEqual([
      '2026-04-03T13:15:00Z',
      '2026-04-04T13:15:00Z', // first 03:00 (+13:45)
      '2026-04-05T14:15:00Z', // 03:00 +12:45
    ]);
    expect(utc('FREQ=DAILY', { timezone: 'Pacific/Chatham', start: '2026-09-26T03:00' }, '2026-09-25T00:00Z', '2026-09-28T00:00Z')).toEqual([
      '2026-09-25T14:15:00Z',
      '2026-09-26T14:00:00Z', // gap 02:45-03:45 → 03:45 +13:45
      '2026-09-27T13:15:00Z',
    ]);
  });

  it('Sao Paulo (no DST in 2026) keeps -03:00 all year', () => {
    const all = utc('FREQ=DAILY', { timezone: 'America/Sao_Paulo', start: '2026-01-01T02:30' }, ...YEAR_2026);
    expect(all).toHaveLength(365);
    expect(all.every((t) => t.endsWith('T05:30:00Z'))).toBe(true);
  });
});

describe('nextOccurrence', () => {
  const rule = parseRecurrenceRule('FREQ=MONTHLY;BYDAY=2TU;COUNT=3', berlin('2026-01-01T14:30', ['2026-02-10T14:30']));

  it('returns the first occurrence strictly after the instant, honouring EXDATE and the end', () => {
    expect(iso(nextOccurrence(rule, at('2025-06-01T00:00Z'))!)).toBe('2026-01-13T13:30:00Z');
    expect(iso(nextOccurrence(rule, at('2026-01-13T13:30:00Z'))!)).toBe('2026-03-10T13:30:00Z'); // 10 Feb excluded
    expect(nextOccurrence(rule, at('2026-03-10T13:30:00Z'))).toBeNull(); // COUNT=3 includes the excluded one
  });

  it('is consistent with occurrencesBetween around DST', () => {
    const daily = parseRecurrenceRule('FREQ=DAILY', berlin('2026-10-20T02:30'));
    const between = occurrencesBetween(daily, at('2026-10-20T00:00Z'), at('2026-10-30T00:00Z'));
    const chained: Date[] = [];
    let t = at('2026-10-20T00:00Z');
    for (;;) {
      const next = nextOccurrence(daily, t);
      if (!next || next >= at('2026-10-30T00:00Z')) break;
      chained.push(next);
      t = next;
    }
    expect(chained).toEqual(between);
    // Restart during the repeated hour, after the first 02:30 fired: next is the following day.
    expect(iso(nextOccurrence(daily, at('2026-10-25T00:30:00Z'))!)).toBe('2026-10-26T01:30:00Z');
    expect(iso(nextOccurrence(daily, at('2026-10-25T01:15:00Z'))!)).toBe('2026-10-26T01:30:00Z');
  });
});

describe('local date-times', () => {
  it('localDateTimeToInstant applies the fixed-time DST policy', () => {
    expect(iso(localDateTimeToInstant('2026-03-29T02:30', 'Europe/Berlin'))).toBe('2026-03-29T01:00:00Z');
    expect(iso(localDateTimeToInstant('2026-10-25T02:30', 'Europe/Berlin'))).toBe('2026-10-25T00:30:00Z');
    expect(iso(localDateTimeToInstant('2026-07-01T12:00:30', 'Europe/Berlin'))).toBe('2026-07-01T10:00:30Z');
    expect(iso(localDateTimeToInstant('2026-07-01', 'America/New_York'))).toBe('2026-07-01T04:00:00Z');
    expect(() => localDateTimeToInstant('2026-07-01T12:00Z', 'Europe/Berlin')).toThrow(RangeError);
    expect(() => localDateTimeToInstant('2026-07-01T12:00', 'Nowhere/Land')).toThrow(InvalidTimezoneError);
  });

  it('instantToLocalDateTime reads the wall clock, both passes of a repeated hour alike', () => {
    expect(instantToLocalDateTime(at('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toBe('2026-10-25T02:30:00');
    expect(instantToLocalDateTime(at('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toBe('2026-10-25T02:30:00');
    expect(instantToLocalDateTime(at('2026-01-01T00:00:00Z'), 'Pacific/Chatham')).toBe('2026-01-01T13:45:00');
  });
});
