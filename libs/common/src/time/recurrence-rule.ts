/**
 * RFC 5545 recurrence rules (RRULE) expanded in a tenant's IANA timezone.
 *
 * The `rrule` package does the calendar expansion, but in "floating" time only:
 * DTSTART, UNTIL and every occurrence are local wall-clock readings held in
 * the UTC fields of a Date (rrule's own TZID support converts through the host
 * timezone and is unreliable around DST). Each wall time is then turned into a
 * real instant with the zone rules, applying the fixed-time policy of
 * ARCHITECTURE.md invariant 6 to every occurrence:
 *
 * - a wall time inside a spring-forward gap happens at the instant the gap
 *   ends (Berlin 2026-03-29 02:30 → 03:00 CEST). Note this deliberately
 *   differs from RFC 5545 §3.3.5, which would shift it by the gap (03:30);
 * - a wall time that occurs twice happens once, at its first occurrence;
 * - two wall times that land on the same instant (both in one gap) yield one
 *   occurrence.
 *
 * The rule text is parsed and validated here, strictly, because rrule's own
 * parser accepts nonsense (`FREQ=FOO`, `BYMONTHDAY=40`, `INTERVAL=abc`) and
 * because a rule that can never produce an occurrence makes rrule iterate to
 * the year 9999 (seconds of CPU): such rules are rejected when they are
 * recognisably impossible (30 February, BYSETPOS beyond the set, an INTERVAL
 * that never reaches the BYMONTH/BYDAY/BYHOUR values, …).
 *
 * ESM note: rrule 2.8.1 has no `exports` map and no `"type"`, so Node ESM loads
 * its UMD CommonJS build, whose only named export it can detect is `rrule`.
 * `import { RRule } from 'rrule'` therefore fails under plain Node (it happens
 * to work under jest and bundlers); the default import is the CommonJS
 * `module.exports` object everywhere.
 */
import { Script, createContext } from 'node:vm';
import rrulePkg from 'rrule';
import type { Options as RRuleOptions, RRule as RRuleType, Weekday as WeekdayType } from 'rrule';
import { zoneRules, InvalidTimezoneError, type ZoneRules } from './cron-expression.js';

const { RRule, Weekday } = rrulePkg;

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export type RecurrenceFrequency = 'YEARLY' | 'MONTHLY' | 'WEEKLY' | 'DAILY' | 'HOURLY' | 'MINUTELY' | 'SECONDLY';

const FREQUENCIES: readonly RecurrenceFrequency[] = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY', 'SECONDLY'];
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
type WeekdayCode = (typeof WEEKDAYS)[number];

/** Bad input to parseRecurrenceRule; `field` says which input was wrong. */
export class InvalidRecurrenceRuleError extends Error {
  readonly rule: string;
  readonly field: 'rule' | 'timezone' | 'start' | 'exdates';
  readonly reason: string;

  constructor(rule: string, reason: string, field: InvalidRecurrenceRuleError['field'] = 'rule', options?: { cause?: unknown }) {
    super(`Invalid recurrence rule ${JSON.stringify(rule)}: ${reason}`, options);
    this.name = 'InvalidRecurrenceRuleError';
    this.rule = rule;
    this.field = field;
    this.reason = reason;
  }
}

/**
 * Expanding the rule took longer than its budget: rrule iterates internally
 * (and for some sub-daily rules with day filters never returns), so every
 * expansion runs under a wall-clock budget and a rule that exceeds it is
 * refused like any other rule that cannot work.
 */
export class RecurrenceTooExpensiveError extends InvalidRecurrenceRuleError {
  constructor(rule: string, readonly budgetMs: number) {
    super(rule, `expanding it takes longer than ${budgetMs} ms (a rule whose BYxxx parts match rarely, or a COUNT from far in the past); simplify it`);
    this.name = 'RecurrenceTooExpensiveError';
  }
}

/* ------------------------------------------------------------------------ */
/* Local date-times                                                         */
/* ------------------------------------------------------------------------ */

const LOCAL_EXTENDED = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const LOCAL_BASIC = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?$/;

interface LocalDateTime {
  /** Floating ms: the UTC fields are the wall-clock reading. */
  readonly wall: number;
  readonly dateOnly: boolean;
}

function fromFields(y: number, mo: number, d: number, h: number, mi: number, s: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null; // 2026-02-30
  return date.getTime();
}

/** `2026-01-05T09:00`, `2026-01-05T09:00:30`, `2026-01-05 09:00`, `20260105T090000`, or a date alone. No offsets: it is a wall time. */
function parseLocal(text: unknown): LocalDateTime | null {
  if (typeof text !== 'string') return null;
  const m = LOCAL_EXTENDED.exec(text.trim()) ?? LOCAL_BASIC.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const wall = fromFields(y, mo, d, h, mi, s);
  return wall === null ? null : { wall, dateOnly: m[4] === undefined };
}

function formatWall(wall: number): string {
  return new Date(wall).toISOString().slice(0, 19);
}

/**
 * The instant a local wall time denotes in `timezone`, with the fixed-time DST
 * policy: inside a spring-forward gap → the instant the gap ends; a repeated
 * wall time → its first occurrence. Accepts `2026-03-29T02:30[:ss]` (or a date
 * alone, meaning midnight). Throws RangeError for a malformed or impossible
 * date-time and InvalidTimezoneError for an unknown zone.
 */
export function localDateTimeToInstant(local: string, timezone: string): Date {
  const parsed = parseLocal(local);
  if (!parsed) throw new RangeError(`Invalid local date-time ${JSON.stringify(local)}: expected YYYY-MM-DDTHH:MM[:SS] without an offset`);
  return new Date(zoneRules(timezone).resolve(parsed.wall).instant);
}

/** The local wall time (`YYYY-MM-DDTHH:MM:SS`) of an instant in `timezone`. */
export function instantToLocalDateTime(instant: Date, timezone: string): string {
  const ms = instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('instantToLocalDateTime: invalid Date');
  return formatWall(zoneRules(timezone).wallAt(ms));
}

/* ------------------------------------------------------------------------ */
/* RRULE text                                                               */
/* ------------------------------------------------------------------------ */

interface ByDay {
  readonly weekday: number; // 0 = MO … 6 = SU (rrule's numbering)
  readonly n: number | null;
}

interface RuleParts {
  freq: RecurrenceFrequency;
  interval: number | null;
  count: number | null;
  until: { wall: number; utc: boolean; dateOnly: boolean; text: string } | null;
  bysecond: number[] | null;
  byminute: number[] | null;
  byhour: number[] | null;
  byday: ByDay[] | null;
  bymonthday: number[] | null;
  byyearday: number[] | null;
  byweekno: number[] | null;
  bymonth: number[] | null;
  bysetpos: number[] | null;
  wkst: number | null;
  /** Canonical text of each part, for the normalised rule. */
  texts: Map<string, string>;
}

const PART_ORDER = ['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYMONTH', 'BYWEEKNO', 'BYYEARDAY', 'BYMONTHDAY', 'BYDAY', 'BYHOUR', 'BYMINUTE', 'BYSECOND', 'BYSETPOS', 'WKST'];

function parseRuleText(ruleText: string, fail: (reason: string) => never): RuleParts {
  let text = ruleText.trim();
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length > 1 || /^(DTSTART|EXDATE|RDATE|EXRULE)/i.test(text)) {
    fail('only a single RRULE value is accepted; pass DTSTART as options.start and exclusions as options.exdates');
  }
  text = text.replace(/^RRULE:/i, '');
  if (text === '') fail('the rule is empty (expected e.g. FREQ=WEEKLY;BYDAY=MO)');

  const parts: RuleParts = {
    freq: 'DAILY',
    interval: null,
    count: null,
    until: null,
    bysecond: null,
    byminute: null,
    byhour: null,
    byday: null,
    bymonthday: null,
    byyearday: null,
    byweekno: null,
    bymonth: null,
    bysetpos: null,
    wkst: null,
    texts: new Map(),
  };
  let sawFreq = false;

  const intList = (name: string, value: string, min: number, max: number, allowNegative: boolean): number[] => {
    const out: number[] = [];
    for (const item of value.split(',')) {
      if (!/^[+-]?\d{1,3}$/.test(item)) fail(`${name}=${value}: "${item}" is not an integer`);
      const n = Number(item);
      const ok = allowNegative ? n !== 0 && Math.abs(n) >= min && Math.abs(n) <= max : n >= min && n <= max;
      if (!ok) fail(`${name}=${value}: ${n} is out of range (${min}..${max}${allowNegative ? ` or -${max}..-${min}` : ''})`);
      if (!out.includes(n)) out.push(n);
    }
    return out;
  };

  for (const raw of text.split(';')) {
    if (raw === '') continue; // tolerate a trailing ";"
    const eq = raw.indexOf('=');
    if (eq <= 0) fail(`"${raw}" is not a NAME=VALUE part`);
    const name = raw.slice(0, eq).trim().toUpperCase();
    const value = raw.slice(eq + 1).trim().toUpperCase();
    if (parts.texts.has(name)) fail(`${name} is given more than once`);
    if (value === '') fail(`${name} has no value`);
    switch (name) {
      case 'FREQ':
        if (!FREQUENCIES.includes(value as RecurrenceFrequency)) fail(`FREQ=${value} is not one of ${FREQUENCIES.join(', ')}`);
        parts.freq = value as RecurrenceFrequency;
        sawFreq = true;
        break;
      case 'INTERVAL':
        if (!/^\d{1,6}$/.test(value) || Number(value) < 1) fail(`INTERVAL=${value} must be a positive integer`);
        parts.interval = Number(value);
        break;
      case 'COUNT':
        if (!/^\d{1,7}$/.test(value) || Number(value) < 1) fail(`COUNT=${value} must be a positive integer`);
        parts.count = Number(value);
        break;
      case 'UNTIL': {
        const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(value);
        const wall = m ? fromFields(+m[1], +m[2], +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0) : null;
        if (!m || wall === null) fail(`UNTIL=${value} must be a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS, optionally ending in Z for UTC)`);
        parts.until = { wall, utc: m[7] === 'Z', dateOnly: m[4] === undefined, text: value };
        break;
      }
      case 'BYSECOND':
        parts.bysecond = intList(name, value, 0, 59, false);
        break;
      case 'BYMINUTE':
        parts.byminute = intList(name, value, 0, 59, false);
        break;
      case 'BYHOUR':
        parts.byhour = intList(name, value, 0, 23, false);
        break;
      case 'BYMONTHDAY':
        parts.bymonthday = intList(name, value, 1, 31, true);
        break;
      case 'BYYEARDAY':
        parts.byyearday = intList(name, value, 1, 366, true);
        break;
      case 'BYWEEKNO':
        parts.byweekno = intList(name, value, 1, 53, true);
        break;
      case 'BYMONTH':
        parts.bymonth = intList(name, value, 1, 12, false);
        break;
      case 'BYSETPOS':
        parts.bysetpos = intList(name, value, 1, 366, true);
        break;
      case 'BYDAY': {
        const days: ByDay[] = [];
        for (const item of value.split(',')) {
          const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
          if (!m) fail(`BYDAY=${value}: "${item}" is not a weekday like MO, 2TU or -1FR`);
          const n = m[1] === undefined ? null : Number(m[1]);
          if (n !== null && (n === 0 || Math.abs(n) > 53)) fail(`BYDAY=${value}: the ordinal of "${item}" must be 1..53 or -53..-1`);
          const weekday = WEEKDAYS.indexOf(m[2] as WeekdayCode);
          if (!days.some((d) => d.weekday === weekday && d.n === n)) days.push({ weekday, n });
        }
        parts.byday = days;
        break;
      }
      case 'WKST':
        if (!WEEKDAYS.includes(value as WeekdayCode)) fail(`WKST=${value} must be one of ${WEEKDAYS.join(', ')}`);
        parts.wkst = WEEKDAYS.indexOf(value as WeekdayCode);
        break;
      default:
        fail(`unknown rule part "${name}" (supported: ${PART_ORDER.join(', ')})`);
    }
    parts.texts.set(name, value);
  }
  if (!sawFreq) fail('FREQ is required (e.g. FREQ=WEEKLY)');
  return parts;
}

/* ------------------------------------------------------------------------ */
/* Static checks: RFC restrictions, and rules that can never fire           */
/* ------------------------------------------------------------------------ */

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function checkRule(p: RuleParts, startWall: number, fail: (reason: string) => never): void {
  const f = p.freq;
  const interval = p.interval ?? 1;
  if (p.count !== null && p.until !== null) fail('COUNT and UNTIL must not both be given (RFC 5545)');
  if (p.byweekno && f !== 'YEARLY') fail('BYWEEKNO is only allowed with FREQ=YEARLY');
  if (p.byyearday && (f === 'MONTHLY' || f === 'WEEKLY' || f === 'DAILY')) fail(`BYYEARDAY is not allowed with FREQ=${f}`);
  if (p.bymonthday && f === 'WEEKLY') fail('BYMONTHDAY is not allowed with FREQ=WEEKLY');
  const ordinals = (p.byday ?? []).filter((d) => d.n !== null);
  if (ordinals.length) {
    if (f !== 'MONTHLY' && f !== 'YEARLY') fail(`BYDAY ordinals like ${p.texts.get('BYDAY')} need FREQ=MONTHLY or FREQ=YEARLY`);
    if (f === 'YEARLY' && p.byweekno) fail('BYDAY ordinals are not allowed together with BYWEEKNO');
    const perMonth = f === 'MONTHLY' || p.bymonth !== null;
    const bad = ordinals.find((d) => Math.abs(d.n!) > (perMonth ? 5 : 53));
    if (bad) fail(`BYDAY ordinal ${bad.n} never occurs: a month has at most 5 of each weekday`);
  }
  const hasOtherBy = p.bysecond || p.byminute || p.byhour || p.byday || p.bymonthday || p.byyearday || p.byweekno || p.bymonth;
  if (p.bysetpos && !hasOtherBy) fail('BYSETPOS needs another BYxxx part to select from');

  // Effective filters, with the defaults rrule derives from DTSTART.
  const start = new Date(startWall);
  const startMonth = start.getUTCMonth() + 1;
  const startDay = start.getUTCDate();
  const startWeekday = (start.getUTCDay() + 6) % 7; // MO = 0
  let bymonth = p.bymonth;
  let bymonthday = p.bymonthday;
  let weekdays: number[] | null = p.byday ? [...new Set(p.byday.map((d) => d.weekday))] : null;
  if (!p.byweekno && !p.byyearday && !p.bymonthday && !p.byday) {
    if (f === 'YEARLY') {
      bymonth ??= [startMonth];
      bymonthday = [startDay];
    } else if (f === 'MONTHLY') bymonthday = [startDay];
    else if (f === 'WEEKLY') weekdays = [startWeekday];
  }
  const byhour = p.byhour ?? (['HOURLY', 'MINUTELY', 'SECONDLY'].includes(f) ? null : [start.getUTCHours()]);
  const byminute = p.byminute ?? (['MINUTELY', 'SECONDLY'].includes(f) ? null : [start.getUTCMinutes()]);
  const bysecond = p.bysecond ?? (f === 'SECONDLY' ? null : [start.getUTCSeconds()]);

  // An INTERVAL visits only some months / weekdays / times of day.
  let months = bymonth ?? range(1, 12);
  if (f === 'MONTHLY' && interval > 1) {
    const visited = new Set(range(0, 11).map((k) => ((startMonth - 1 + k * interval) % 12) + 1));
    months = months.filter((m) => visited.has(m));
    if (!months.length) fail(`FREQ=MONTHLY;INTERVAL=${interval} from a start in month ${startMonth} never reaches BYMONTH=${p.texts.get('BYMONTH')}`);
  }
  if (f === 'DAILY' && interval % 7 === 0) {
    weekdays = (weekdays ?? range(0, 6)).filter((w) => w === startWeekday);
    if (!weekdays.length) fail(`FREQ=DAILY;INTERVAL=${interval} only ever lands on the start's weekday, which BYDAY=${p.texts.get('BYDAY')} excludes`);
  }
  const timeStep = f === 'HOURLY' ? 3600 : f === 'MINUTELY' ? 60 : f === 'SECONDLY' ? 1 : 0;
  if (timeStep) {
    const g = gcd(interval * timeStep, 86_400);
    const startSecond = start.getUTCHours() * 3600 + start.getUTCMinutes() * 60 + start.getUTCSeconds();
    let reachable = false;
    outer: for (const h of byhour ?? range(0, 23))
      for (const mi of byminute ?? range(0, 59))
        for (const s of bysecond ?? range(0, 59))
          if ((((h * 3600 + mi * 60 + s - startSecond) % g) + g) % g === 0) {
            reachable = true;
            break outer;
          }
    if (!reachable) fail(`FREQ=${f};INTERVAL=${interval} from the start time never lands on the selected BYHOUR/BYMINUTE/BYSECOND values`);
  }

  // Does any calendar day pass the day filters? 28 years (2000-2027) cover every
  // weekday/leap-year combination of the Gregorian calendar short of century years.
  const monthSet = new Set(months);
  const weekdaySet = weekdays ? new Set(weekdays) : null;
  let anyDay = false;
  for (let ms = Date.UTC(2000, 0, 1); ms < Date.UTC(2028, 0, 1) && !anyDay; ms += DAY) {
    const d = new Date(ms);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth() + 1;
    if (!monthSet.has(m)) continue;
    const dom = d.getUTCDate();
    const dim = new Date(Date.UTC(y, m, 0)).getUTCDate();
    if (bymonthday && !bymonthday.some((x) => (x > 0 ? x === dom : dim + x + 1 === dom))) continue;
    if (p.byyearday) {
      const doy = (ms - Date.UTC(y, 0, 1)) / DAY + 1;
      const diy = (Date.UTC(y + 1, 0, 1) - Date.UTC(y, 0, 1)) / DAY;
      if (!p.byyearday.some((x) => (x > 0 ? x === doy : diy + x + 1 === doy))) continue;
    }
    if (weekdaySet && !weekdaySet.has((d.getUTCDay() + 6) % 7)) continue;
    anyDay = true;
  }
  if (!anyDay) fail('no calendar day satisfies the BYMONTH/BYMONTHDAY/BYYEARDAY/BYDAY combination (with the defaults taken from the start), so it would never occur');

  if (p.bysetpos) {
    // Upper bound of the number of candidates in one FREQ period.
    const periodDays = { YEARLY: 366, MONTHLY: 31, WEEKLY: 7 }[f as string] ?? 1;
    let days = periodDays;
    if (p.byday) {
      const plain = p.byday.filter((d) => d.n === null).length;
      const perPeriod = f === 'YEARLY' ? (p.bymonth ? 5 * p.bymonth.length : 53) : f === 'MONTHLY' ? 5 : 1;
      days = Math.min(days, plain * perPeriod + (p.byday.length - plain) * (f === 'YEARLY' && p.bymonth ? p.bymonth.length : 1));
    }
    if (bymonthday) days = Math.min(days, bymonthday.length * (f === 'YEARLY' ? months.length : 1));
    if (p.byyearday) days = Math.min(days, p.byyearday.length);
    const count = (list: number[] | null, applies: boolean) => (applies && list ? list.length : 1);
    const isDailyOrLonger = timeStep === 0;
    const times =
      count(byhour, isDailyOrLonger) *
      count(byminute, isDailyOrLonger || f === 'HOURLY') *
      count(bysecond, f !== 'SECONDLY');
    const max = days * times;
    if (p.bysetpos.every((pos) => Math.abs(pos) > max)) {
      fail(`BYSETPOS=${p.texts.get('BYSETPOS')} can never select anything: each ${f.toLowerCase()} period has at most ${max} candidate(s)`);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Parsed rule                                                              */
/* ------------------------------------------------------------------------ */

export interface RecurrenceRuleOptions {
  /** IANA timezone the rule is read in (the tenant's). */
  readonly timezone: string;
  /** DTSTART as a local wall time, e.g. `2026-01-05T09:00` (a date alone means midnight). */
  readonly start: string;
  /**
   * Excluded occurrences as local wall times (`2026-02-02T09:00`); a date alone
   * (`2026-02-02`) excludes every occurrence on that local day.
   */
  readonly exdates?: readonly string[];
}

/** A validated rule, ready to expand. Create with parseRecurrenceRule. */
export class RecurrenceRule {
  /** The rule normalised: upper case, parts in a canonical order, no `RRULE:` prefix. */
  readonly rule: string;
  /** Canonical IANA name. */
  readonly timezone: string;
  /** DTSTART, normalised to `YYYY-MM-DDTHH:MM:SS` local time. */
  readonly start: string;
  /** Normalised exclusions (`YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD`). */
  readonly exdates: readonly string[];
  readonly frequency: RecurrenceFrequency;
  readonly interval: number;
  readonly count: number | null;
  /** False when the rule has neither COUNT nor UNTIL. */
  readonly isFinite: boolean;

  /** @internal */ readonly engine: RRuleType;
  /** @internal */ readonly zone: ZoneRules;
  /** @internal */ readonly excludedWalls: ReadonlySet<number>;
  /** @internal */ readonly excludedDays: ReadonlySet<number>;
  /** @internal UNTIL given in UTC: occurrences after this instant are dropped. */
  readonly untilInstant: number | null;
  /** @internal The engine's options and DTSTART (wall), to rebuild it from a later period (rebase). */
  readonly engineOptions: Partial<RRuleOptions>;
  /** @internal */ readonly startWall: number;

  /** @internal use parseRecurrenceRule */
  constructor(init: Omit<RecurrenceRule, 'isExcluded'>) {
    Object.assign(this, init);
  }

  /** @internal */
  isExcluded(wall: number): boolean {
    return this.excludedWalls.has(wall) || this.excludedDays.has(Math.floor(wall / DAY));
  }
}

const FREQ_VALUE: Record<RecurrenceFrequency, number> = {
  YEARLY: RRule.YEARLY,
  MONTHLY: RRule.MONTHLY,
  WEEKLY: RRule.WEEKLY,
  DAILY: RRule.DAILY,
  HOURLY: RRule.HOURLY,
  MINUTELY: RRule.MINUTELY,
  SECONDLY: RRule.SECONDLY,
};

/**
 * Parses and validates an RRULE (`FREQ=MONTHLY;BYDAY=-1FR`, optionally prefixed
 * `RRULE:`) read in `options.timezone` from the local wall time `options.start`.
 * Supports FREQ, INTERVAL, COUNT, UNTIL (date, local date-time, or UTC with Z),
 * BYSECOND/BYMINUTE/BYHOUR, BYDAY with ordinals, BYMONTHDAY (negative too),
 * BYYEARDAY, BYWEEKNO, BYMONTH, BYSETPOS and WKST.
 * Throws InvalidRecurrenceRuleError with a message saying what is wrong.
 */
export function parseRecurrenceRule(rule: string, options: RecurrenceRuleOptions): RecurrenceRule {
  const ruleText = typeof rule === 'string' ? rule : String(rule);
  const fail: (reason: string, field?: InvalidRecurrenceRuleError['field'], cause?: unknown) => never = (reason, field = 'rule', cause) => {
    throw new InvalidRecurrenceRuleError(ruleText, reason, field, cause === undefined ? undefined : { cause });
  };
  if (typeof rule !== 'string') fail('the rule must be a string');

  let zone: ZoneRules;
  try {
    zone = zoneRules(options?.timezone);
  } catch (err) {
    if (err instanceof InvalidTimezoneError) return fail(err.message, 'timezone', err);
    throw err;
  }
  const start = parseLocal(options.start);
  if (!start) {
    return fail(`start ${JSON.stringify(options.start)} must be a local date-time like 2026-01-05T09:00 (no offset; the timezone says where)`, 'start');
  }

  const excludedWalls = new Set<number>();
  const excludedDays = new Set<number>();
  const exdates: string[] = [];
  for (const text of options.exdates ?? []) {
    const ex = parseLocal(text);
    if (!ex) fail(`exdate ${JSON.stringify(text)} must be a local date-time like 2026-02-02T09:00 or a date like 2026-02-02`, 'exdates');
    if (ex.dateOnly) {
      excludedDays.add(Math.floor(ex.wall / DAY));
      exdates.push(formatWall(ex.wall).slice(0, 10));
    } else {
      excludedWalls.add(ex.wall);
      exdates.push(formatWall(ex.wall));
    }
  }

  const parts = parseRuleText(ruleText, fail);
  checkRule(parts, start.wall, fail);

  let untilWall: number | null = null;
  let untilInstant: number | null = null;
  if (parts.until) {
    if (parts.until.utc) {
      untilInstant = parts.until.wall; // "Z": the fields are UTC, so this is the instant
      untilWall = zone.wallAt(untilInstant) + DAY; // rrule sees a margin; the instant is enforced on resolution
      if (untilInstant < zone.resolve(start.wall).instant) fail(`UNTIL=${parts.until.text} is before the start`);
    } else {
      untilWall = parts.until.dateOnly ? parts.until.wall + DAY - SECOND : parts.until.wall; // a date includes its whole day
      if (untilWall < start.wall) fail(`UNTIL=${parts.until.text} is before the start`);
    }
  }

  const rruleOptions: Partial<RRuleOptions> = {
    freq: FREQ_VALUE[parts.freq],
    dtstart: new Date(start.wall),
    interval: parts.interval ?? 1,
    count: parts.count,
    until: untilWall === null ? null : new Date(untilWall),
    tzid: null,
    wkst: parts.wkst,
    bysecond: parts.bysecond,
    byminute: parts.byminute,
    byhour: parts.byhour,
    bymonthday: parts.bymonthday,
    byyearday: parts.byyearday,
    byweekno: parts.byweekno,
    bymonth: parts.bymonth,
    bysetpos: parts.bysetpos,
    byweekday: parts.byday ? parts.byday.map((d): WeekdayType => new Weekday(d.weekday, d.n ?? undefined)) : null,
  };
  let engine: RRuleType;
  try {
    engine = new RRule(rruleOptions, true);
  } catch (err) {
    return fail(`rejected by the RRULE engine: ${(err as Error).message}`, 'rule', err);
  }

  return new RecurrenceRule({
    rule: PART_ORDER.filter((name) => parts.texts.has(name)).map((name) => `${name}=${parts.texts.get(name)}`).join(';'),
    timezone: zone.name,
    start: formatWall(start.wall),
    exdates,
    frequency: parts.freq,
    interval: parts.interval ?? 1,
    count: parts.count,
    isFinite: parts.count !== null || parts.until !== null,
    engine,
    zone,
    excludedWalls,
    excludedDays,
    untilInstant,
    engineOptions: rruleOptions,
    startWall: start.wall,
  });
}

function checkDate(d: Date, name: string, fn: string): number {
  const ms = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new RangeError(`${fn}: \`${name}\` must be a valid Date`);
  return ms;
}

/** The latest date rrule can iterate to. */
const END_OF_TIME = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/* ------------------------------------------------------------------------ */
/* Bounded expansion                                                        */
/* ------------------------------------------------------------------------ */

/** Wall-clock budget of one expansion when the caller gives none. */
export const DEFAULT_EXPANSION_BUDGET_MS = 1_000;

export interface ExpansionOptions {
  /**
   * Most wall-clock milliseconds the expansion may take (default
   * DEFAULT_EXPANSION_BUDGET_MS); beyond it RecurrenceTooExpensiveError. The
   * event loop is never held longer than this by one call.
   */
  budgetMs?: number;
}

// One context and script for every bounded run: vm's timeout interrupts any JavaScript running under it,
// rrule's own loops included (a watchdog terminates the execution), which no callback inside rrule could.
const boundedContext = createContext({ work: (): unknown => undefined });
const boundedScript = new Script('work()');

function bounded<T>(rule: RecurrenceRule, budgetMs: number | undefined, work: () => T): T {
  const budget = budgetMs ?? DEFAULT_EXPANSION_BUDGET_MS;
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`budgetMs must be a positive integer, got ${budget}`);
  (boundedContext as { work: () => unknown }).work = work;
  try {
    return boundedScript.runInContext(boundedContext, { timeout: budget }) as T;
  } catch (e) {
    if ((e as { code?: unknown })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new RecurrenceTooExpensiveError(rule.rule, budget);
    throw e;
  } finally {
    (boundedContext as { work: () => unknown }).work = () => undefined;
  }
}

/**
 * True when the rule's expansion can start near any window instead of at
 * DTSTART (see engineNear): not with COUNT, which counts from DTSTART, nor for
 * the sub-daily rules whose grid rrule.js shifts depending on where it starts
 * (it carries a minute or second overflow by repeating the carry until BYHOUR
 * or BYMINUTE matches): for those only an expansion from DTSTART gives rrule's
 * sequence, and the budget bounds them.
 */
export function expandsNearWindow(rule: RecurrenceRule): boolean {
  const o = rule.engineOptions;
  if (o.count !== null && o.count !== undefined) return false;
  return !((o.freq === RRule.MINUTELY && o.byhour) || (o.freq === RRule.SECONDLY && (o.byhour || o.byminute)));
}

/** Monday = 0 ... Sunday = 6 of a wall time. */
const weekdayOf = (wall: number) => (new Date(wall).getUTCDay() + 6) % 7;

/**
 * rrule iterates from DTSTART, period by period, however far before the
 * window it lies (FREQ=MINUTELY from 1990 is 19 million steps). The
 * occurrences of every period after the first depend only on the period (the
 * grid of INTERVAL periods anchored at DTSTART's period) and on the BYxxx
 * values, some of which rrule derives from DTSTART: made explicit, the rule can
 * start at any later period of its grid and yields the same occurrences from
 * there on. This returns the engine started at the latest grid period that
 * begins at least one whole period before `wallFrom` (so nothing spilling over
 * from the period before is lost), or the rule's own engine when that is not
 * later than DTSTART's period, when COUNT needs counting from DTSTART, or for
 * the sub-daily rules whose grid rrule shifts (below).
 */
function engineNear(rule: RecurrenceRule, wallFrom: number): RRuleType {
  const o = rule.engineOptions;
  if (!expandsNearWindow(rule)) return rule.engine;
  const n = o.interval ?? 1;
  const start = rule.startWall;
  if (wallFrom <= start) return rule.engine;
  const d = new Date(start);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  let periodStart: (k: number) => number;
  let periodsBefore: number;
  switch (o.freq) {
    case RRule.YEARLY:
      periodStart = (k) => Date.UTC(y + k * n, 0, 1);
      periodsBefore = Math.floor((new Date(wallFrom).getUTCFullYear() - y) / n);
      break;
    case RRule.MONTHLY: {
      const target = new Date(wallFrom);
      periodStart = (k) => Date.UTC(y, m + k * n, 1);
      periodsBefore = Math.floor((target.getUTCFullYear() * 12 + target.getUTCMonth() - (y * 12 + m)) / n);
      break;
    }
    case RRule.WEEKLY: {
      const wkst = o.wkst as number | null | undefined ?? 0;
      const weekStart = (w: number) => Math.floor(w / DAY) * DAY - ((weekdayOf(w) - wkst + 7) % 7) * DAY;
      const w0 = weekStart(start);
      periodStart = (k) => w0 + k * n * 7 * DAY;
      periodsBefore = Math.floor((weekStart(wallFrom) - w0) / (n * 7 * DAY));
      break;
    }
    default: {
      const unit = o.freq === RRule.DAILY ? DAY : o.freq === RRule.HOURLY ? HOUR : o.freq === RRule.MINUTELY ? MINUTE : SECOND;
      const p0 = Math.floor(start / unit) * unit;
      periodStart = (k) => p0 + k * n * unit;
      periodsBefore = Math.floor((Math.floor(wallFrom / unit) * unit - p0) / (n * unit));
    }
  }
  // One whole period of margin; the first period (DTSTART's own, partial) is never replaced.
  const k = periodsBefore - 1;
  if (k < 1) return rule.engine;
  const explicit: Partial<RRuleOptions> = { ...o, dtstart: new Date(periodStart(k)) };
  const dayParts = o.byweekno || o.byyearday || o.bymonthday || o.byweekday;
  if (!dayParts) {
    if (o.freq === RRule.YEARLY) {
      explicit.bymonth = o.bymonth ?? [m + 1];
      explicit.bymonthday = [d.getUTCDate()];
    } else if (o.freq === RRule.MONTHLY) explicit.bymonthday = [d.getUTCDate()];
    else if (o.freq === RRule.WEEKLY) explicit.byweekday = [weekdayOf(start)];
  }
  // rrule's numbering: YEARLY 0 ... DAILY 3, HOURLY 4, MINUTELY 5, SECONDLY 6.
  if (!o.byhour && (o.freq as number) < RRule.HOURLY) explicit.byhour = [d.getUTCHours()];
  if (!o.byminute && (o.freq as number) < RRule.MINUTELY) explicit.byminute = [d.getUTCMinutes()];
  if (!o.bysecond && (o.freq as number) < RRule.SECONDLY) explicit.bysecond = [d.getUTCSeconds()];
  return new RRule(explicit, true);
}

function localStartInstant(rule: RecurrenceRule): number {
  return rule.zone.resolve(rule.startWall).instant;
}

const STEP_MS: Partial<Record<RecurrenceFrequency, number>> = { WEEKLY: 7 * DAY, DAILY: DAY, HOURLY: HOUR, MINUTELY: MINUTE, SECONDLY: SECOND };

/**
 * Steps of a rule made of FREQ and INTERVAL alone (no BYxxx, COUNT, UNTIL or
 * exclusions), each of which is an occurrence, in [fromMs, toMs); 0 for any
 * other rule. DST can merge a few steps, hence callers keep a margin.
 */
function plainSteps(rule: RecurrenceRule, fromMs: number, toMs: number): number {
  const o = rule.engineOptions;
  const step = STEP_MS[rule.frequency];
  const filtered = o.bymonth || o.byweekno || o.byyearday || o.bymonthday || o.byweekday || o.byhour || o.byminute || o.bysecond || o.bysetpos;
  if (!step || filtered || rule.isFinite || rule.exdates.length || toMs <= fromMs) return 0;
  return Math.floor((toMs - fromMs) / (step * rule.interval));
}

/**
 * The rule's occurrences with `from <= instant < to` (half-open, so adjacent
 * windows never repeat an occurrence), in order, as real instants. Throws
 * RangeError when there are more than `limit` (default 10,000): narrow the
 * window; RecurrenceTooExpensiveError when it takes longer than `budgetMs`.
 * Expansion starts near the window, not at DTSTART (unless COUNT needs it).
 */
export function occurrencesBetween(rule: RecurrenceRule, from: Date, to: Date, options: { limit?: number } & ExpansionOptions = {}): Date[] {
  const fromMs = checkDate(from, 'from', 'occurrencesBetween');
  const toMs = checkDate(to, 'to', 'occurrencesBetween');
  const limit = options.limit ?? 10_000;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`occurrencesBetween: limit must be a positive integer, got ${limit}`);
  const out: Date[] = [];
  if (toMs <= fromMs) return out;
  if (plainSteps(rule, Math.max(fromMs, localStartInstant(rule)), toMs) > 2 * limit) {
    // A plain FREQ/INTERVAL rule has one occurrence per step: refused without iterating (rrule costs ~30 µs a step).
    throw new RangeError(`occurrencesBetween: more than ${limit} occurrences between ${from.toISOString()} and ${to.toISOString()}; narrow the window or raise the limit`);
  }
  const zone = rule.zone;
  // Wall times whose instant can fall in [from, to) lie within a day of the window's wall times.
  const wallFrom = new Date(zone.wallAt(fromMs) - DAY);
  const wallTo = new Date(zone.wallAt(toMs) + DAY);
  let last = -Infinity;
  return bounded(rule, options.budgetMs, () => {
    engineNear(rule, wallFrom.getTime()).between(wallFrom, wallTo, true, (date) => {
      const wall = date.getTime();
      if (rule.isExcluded(wall)) return true;
      const instant = zone.resolve(wall).instant; // non-decreasing in wall time
      if (rule.untilInstant !== null && instant > rule.untilInstant) return false;
      if (instant >= toMs) return false;
      if (instant < fromMs || instant === last) return true;
      if (out.length >= limit) {
        throw new RangeError(`occurrencesBetween: more than ${limit} occurrences between ${from.toISOString()} and ${to.toISOString()}; narrow the window or raise the limit`);
      }
      out.push(new Date(instant));
      last = instant;
      return true;
    });
    return out;
  });
}

/** Runs one synchronous slice of an expansion when the caller lets it (a process-wide gate, a turn of the event loop). */
export type ExpansionTurn = <T>(work: () => T) => Promise<T>;

const nextTurn: ExpansionTurn = (work) => new Promise((resolve) => setImmediate(resolve)).then(work);

export interface SlicedExpansionOptions extends ExpansionOptions {
  limit?: number;
  /** Length of one slice of the window (default 31 days). */
  sliceMs?: number;
  /** Most wall-clock milliseconds the whole expansion may take (default 8 x budgetMs). */
  totalBudgetMs?: number;
  /** How each slice gets its turn (default: the next turn of the event loop). */
  turn?: ExpansionTurn;
}

/**
 * occurrencesBetween in slices of the window, each a synchronous call under
 * `budgetMs`, each run by `turn`, so a long expansion never holds the event
 * loop longer than one slice: other requests (and /healthz) are served in
 * between. Rules that must expand from DTSTART (COUNT, see expandsNearWindow)
 * are one slice. RangeError beyond `limit` occurrences (for the whole window);
 * RecurrenceTooExpensiveError when a slice exceeds `budgetMs` or the whole
 * expansion `totalBudgetMs`.
 */
export async function occurrencesBetweenInSlices(rule: RecurrenceRule, from: Date, to: Date, options: SlicedExpansionOptions = {}): Promise<Date[]> {
  const fromMs = checkDate(from, 'from', 'occurrencesBetweenInSlices');
  const toMs = checkDate(to, 'to', 'occurrencesBetweenInSlices');
  const limit = options.limit ?? 10_000;
  const budgetMs = options.budgetMs ?? DEFAULT_EXPANSION_BUDGET_MS;
  const total = options.totalBudgetMs ?? 8 * budgetMs;
  const sliceMs = expandsNearWindow(rule) ? options.sliceMs ?? 31 * DAY : Math.max(1, toMs - fromMs);
  const turn = options.turn ?? nextTurn;
  const deadline = performance.now() + total;
  const out: Date[] = [];
  for (let start = fromMs; start < toMs; start += sliceMs) {
    const end = Math.min(toMs, start + sliceMs);
    const part = await turn(() => {
      if (performance.now() > deadline) throw new RecurrenceTooExpensiveError(rule.rule, total);
      try {
        return occurrencesBetween(rule, new Date(start), new Date(end), { limit: Math.max(1, limit - out.length), budgetMs });
      } catch (e) {
        if (e instanceof RangeError) return null; // more than the rest of the limit in this slice
        throw e;
      }
    });
    if (part === null || out.length + part.length > limit) {
      throw new RangeError(`occurrencesBetween: more than ${limit} occurrences between ${from.toISOString()} and ${to.toISOString()}; narrow the window or raise the limit`);
    }
    out.push(...part);
  }
  return out;
}

/** The first occurrence strictly after `after`, or null when the rule has ended (RecurrenceTooExpensiveError beyond `budgetMs`). */
export function nextOccurrence(rule: RecurrenceRule, after: Date, options: ExpansionOptions = {}): Date | null {
  const afterMs = checkDate(after, 'after', 'nextOccurrence');
  const zone = rule.zone;
  const wallFrom = zone.wallAt(afterMs) - DAY;
  let found: number | null = null;
  bounded(rule, options.budgetMs, () =>
    engineNear(rule, wallFrom).between(new Date(wallFrom), END_OF_TIME, true, (date) => {
      const wall = date.getTime();
      if (rule.isExcluded(wall)) return true;
      const instant = zone.resolve(wall).instant;
      if (rule.untilInstant !== null && instant > rule.untilInstant) return false;
      if (instant <= afterMs) return true;
      found = instant;
      return false;
    }),
  );
  return found === null ? null : new Date(found);
}
