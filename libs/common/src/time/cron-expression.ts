/**
 * Cron expressions evaluated in an IANA timezone, with the DST policy of
 * ARCHITECTURE.md invariant 6 (the one Vixie cron uses). Also the timezone
 * machinery every other time engine here builds on.
 *
 * Pure and dependency-light: luxon is used only to ask the platform's tz
 * database for a zone's UTC offset at an instant. Everything else is integer
 * arithmetic so that `nextFireTime` costs about a microsecond even for a
 * `* * * * * *` schedule.
 *
 * ## Wall time
 *
 * A "wall time" here is a number of milliseconds whose UTC fields are the local
 * clock reading (a "floating" time): 2026-03-29T02:30 in Berlin is
 * `Date.UTC(2026, 2, 29, 2, 30)`, whatever instant it denotes.
 *
 * ## DST policy (invariant 6)
 *
 * - **Fixed-time schedules** — the seconds (6-field form), minute and hour fields
 *   do not start with `*` (or `?`). This is Vixie's test, which looks only at the
 *   first character, so lists and ranges of explicit values (`0,30 9-17 * * *`,
 *   `0 8/2 * * *`) count as fixed too. Each matching wall time fires once:
 *   - in a spring-forward gap it fires at the instant the gap ends
 *     (Berlin 2026-03-29 02:30 → 03:00 CEST = 01:00Z); several wall times in
 *     the same gap collapse into that one firing;
 *   - when it occurs twice (fall-back) it fires at its first occurrence only,
 *     so after a restart during the repeated hour it does not fire again.
 * - **Clock-following schedules** — any of those fields starts with `*`
 *   (`*`, `*\/n`, `?`). They fire at every instant whose local wall clock
 *   matches: the repeated hour fires twice, the skipped hour not at all, so an
 *   hourly job fires once per real hour through both changes.
 *
 * Zones whose offset moves by 30 minutes (Australia/Lord_Howe) or sits at :45
 * (Pacific/Chatham) follow exactly the same rules: they are just other gaps.
 *
 * ## Day matching
 *
 * Standard cron OR semantics: when both day-of-month and day-of-week are
 * restricted (neither starts with `*` or `?`), a day matches if either does;
 * otherwise both must match. As in Vixie cron, `*\/2` counts as unrestricted
 * for that choice but still filters: `0 0 *\/2 * MON` is odd-numbered Mondays.
 */
import { IANAZone } from 'luxon';

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/* ------------------------------------------------------------------------ */
/* Timezones                                                                */
/* ------------------------------------------------------------------------ */

/** A timezone name the platform's tz database does not know. */
export class InvalidTimezoneError extends Error {
  readonly timezone: string;

  constructor(timezone: unknown) {
    super(
      `Invalid timezone ${JSON.stringify(timezone)}: expected an IANA timezone name such as "Europe/Berlin", "America/New_York" or "UTC"`,
    );
    this.name = 'InvalidTimezoneError';
    this.timezone = String(timezone);
  }
}

/** IANA names and the legacy aliases the tz database keeps (`UTC`, `EST5EDT`, `Etc/GMT+5`); never raw offsets. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;
const canonicalNames = new Map<string, string>();
/** Intl accepts any letter case, so aliases are cached only up to a bound (canonical names always). */
const MAX_CACHED_ALIASES = 2_000;

/** The tz database's canonical spelling of `tz`, or null when it is not a known zone. */
function canonicalTimezone(tz: unknown): string | null {
  if (typeof tz !== 'string') return null;
  const cached = canonicalNames.get(tz);
  if (cached !== undefined) return cached;
  if (!ZONE_NAME.test(tz)) return null;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null; // unknown names are not cached, so garbage input cannot grow the map
  }
  if (!IANAZone.isValidZone(canonical)) return null;
  if (tz === canonical || canonicalNames.size < MAX_CACHED_ALIASES) canonicalNames.set(tz, canonical);
  return canonical;
}

/** True for a timezone the tz database knows (`Europe/Berlin`, `UTC`); false for offsets like `+01:00` and unknown names. */
export function isValidTimezone(tz: unknown): tz is string {
  return canonicalTimezone(tz) !== null;
}

/** @internal A change of UTC offset; offsets in milliseconds, `at` the first instant of the new offset. */
export interface ZoneTransition {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/** @internal How a wall time maps to an instant under the fixed-time policy. */
export interface WallResolution {
  /** The instant to use: the only one, the first of two, or the end of the gap. */
  readonly instant: number;
  readonly kind: 'unique' | 'repeated' | 'gap';
  /** For `repeated`: the wall time at which the repeated stretch ends (the first wall time that is unique again). */
  readonly repeatedUntilWall?: number;
}

interface ZoneYear {
  readonly start: number;
  readonly end: number;
  readonly startOffset: number;
  /** Transitions with `start < at <= end`, in order. */
  readonly transitions: readonly ZoneTransition[];
}

function utcYearStart(year: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1);
  return d.getTime();
}

/**
 * @internal The offset rules of one zone, learnt lazily one UTC year at a time
 * and cached, so that offset look-ups on hot paths are arithmetic, not Intl calls.
 *
 * A year is sampled once a day and each change is bisected to the second; this
 * assumes a zone never changes its offset and changes it back within 24 hours,
 * which holds for every zone in the tz database from 1970 on.
 */
export class ZoneRules {
  private readonly zone: IANAZone;
  private readonly years = new Map<number, ZoneYear>();
  private last: ZoneYear | undefined;

  constructor(readonly name: string) {
    this.zone = IANAZone.create(name);
  }

  /** Offset (ms) straight from the tz database: slow, ~7µs. */
  private raw(ms: number): number {
    return Math.round(this.zone.offset(ms) * MINUTE);
  }

  private year(y: number): ZoneYear {
    let data = this.years.get(y);
    if (data) return data;
    const start = utcYearStart(y);
    const end = utcYearStart(y + 1);
    const startOffset = this.raw(start);
    const transitions: ZoneTransition[] = [];
    let prev = start;
    let prevOffset = startOffset;
    for (let sample = Math.min(start + DAY, end); ; sample = Math.min(sample + DAY, end)) {
      const offset = this.raw(sample);
      // Walk every change inside (prev, sample]; usually none, rarely one.
      while (offset !== prevOffset) {
        let lo = prev;
        let hi = sample;
        while (hi - lo > SECOND) {
          const mid = lo + Math.max(1, Math.floor((hi - lo) / SECOND / 2)) * SECOND;
          if (this.raw(mid) === prevOffset) lo = mid;
          else hi = mid;
        }
        const after = this.raw(hi);
        transitions.push({ at: hi, before: prevOffset, after });
        prev = hi;
        prevOffset = after;
      }
      prev = sample;
      if (sample === end) break;
    }
    data = { start, end, startOffset, transitions };
    this.years.set(y, data);
    return data;
  }

  private yearOf(ms: number): ZoneYear {
    const last = this.last;
    if (last && ms >= last.start && ms < last.end) return last;
    const data = this.year(new Date(ms).getUTCFullYear());
    this.last = data;
    return data;
  }

  /** UTC offset (ms) in force at instant `ms`. */
  offsetAt(ms: number): number {
    const y = this.yearOf(ms);
    let offset = y.startOffset;
    for (const t of y.transitions) {
      if (t.at > ms) break;
      offset = t.after;
    }
    return offset;
  }

  /** The local wall time (floating ms) at instant `ms`. */
  wallAt(ms: number): number {
    return ms + this.offsetAt(ms);
  }

  /** The first transition with `from < at <= to`, if any. */
  firstTransitionIn(from: number, to: number): ZoneTransition | undefined {
    if (to <= from) return undefined;
    const lastYear = new Date(to).getUTCFullYear();
    for (let y = new Date(from).getUTCFullYear(); y <= lastYear; y++) {
      for (const t of this.year(y).transitions) {
        if (t.at > to) return undefined;
        if (t.at > from) return t;
      }
    }
    return undefined;
  }

  /** All transitions with `from < at <= to`. */
  transitionsIn(from: number, to: number): ZoneTransition[] {
    const out: ZoneTransition[] = [];
    if (to <= from) return out;
    const lastYear = new Date(to).getUTCFullYear();
    for (let y = new Date(from).getUTCFullYear(); y <= lastYear; y++) {
      for (const t of this.year(y).transitions) if (t.at > from && t.at <= to) out.push(t);
    }
    return out;
  }

  /**
   * The instant a wall time denotes under the fixed-time policy: the only one;
   * the first of two (fall-back); or, inside a spring-forward gap, the instant
   * the gap ends. Non-decreasing in `wall`.
   */
  resolve(wall: number): WallResolution {
    // Offsets are within ±26 h, so only transitions near the wall time matter.
    const near = this.transitionsIn(wall - 30 * HOUR, wall + 30 * HOUR);
    if (near.length === 0) return { instant: wall - this.offsetAt(wall), kind: 'unique' };
    const offsets = new Set<number>([this.offsetAt(wall - 30 * HOUR)]);
    for (const t of near) offsets.add(t.after);
    const instants: number[] = [];
    for (const offset of offsets) {
      const instant = wall - offset;
      if (this.offsetAt(instant) === offset && !instants.includes(instant)) instants.push(instant);
    }
    instants.sort((a, b) => a - b);
    if (instants.length === 1) return { instant: instants[0], kind: 'unique' };
    if (instants.length > 1) {
      const fallBack = near.find((t) => t.after < t.before && wall >= t.at + t.after && wall < t.at + t.before);
      return {
        instant: instants[0],
        kind: 'repeated',
        repeatedUntilWall: fallBack ? fallBack.at + fallBack.before : wall + SECOND,
      };
    }
    const gap = near.find((t) => t.after > t.before && wall >= t.at + t.before && wall < t.at + t.after);
    if (gap) return { instant: gap.at, kind: 'gap' };
    /* c8 ignore next */
    return { instant: wall - this.offsetAt(wall - 30 * HOUR), kind: 'unique' };
  }
}

const zoneRulesCache = new Map<string, ZoneRules>();

/** @internal The cached rules of a zone; throws InvalidTimezoneError for unknown names. */
export function zoneRules(tz: string): ZoneRules {
  const hit = zoneRulesCache.get(tz);
  if (hit) return hit;
  const canonical = canonicalTimezone(tz);
  if (canonical === null) throw new InvalidTimezoneError(tz);
  let rules = zoneRulesCache.get(canonical);
  if (!rules) {
    rules = new ZoneRules(canonical);
    zoneRulesCache.set(canonical, rules);
  }
  if (zoneRulesCache.size < MAX_CACHED_ALIASES) zoneRulesCache.set(tz, rules);
  return rules;
}

export interface TimezoneTransition {
  /** The first instant of the new offset. */
  readonly at: Date;
  readonly offsetMinutesBefore: number;
  readonly offsetMinutesAfter: number;
  /** `spring_forward`: wall times are skipped (a gap); `fall_back`: wall times repeat. */
  readonly kind: 'spring_forward' | 'fall_back';
}

export interface TimezoneDescription {
  /** Canonical IANA name (`US/Eastern` → `America/New_York`). */
  readonly name: string;
  /** UTC offset at the described instant, in minutes (Lord Howe: 630 or 660, Chatham: 765 or 825). */
  readonly offsetMinutes: number;
  /** The same as `+hh:mm` / `-hh:mm`. */
  readonly offset: string;
  /** Short name at the instant where the platform knows one (`CET`, `EDT`), else `GMT+hh:mm` style. */
  readonly abbreviation: string;
  /** Whether the offset changes within a year either side of the instant. */
  readonly observesDst: boolean;
  /** The next change of offset within two years after the instant, if any. */
  readonly nextTransition: TimezoneTransition | null;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(Math.round(minutes));
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * Describes a timezone at an instant (default: now) for admin screens and
 * validation messages. Throws InvalidTimezoneError for unknown names.
 */
export function describeTimezone(tz: string, at: Date = new Date()): TimezoneDescription {
  const rules = zoneRules(tz);
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('describeTimezone: `at` is an invalid Date');
  const offsetMinutes = rules.offsetAt(ms) / MINUTE;
  const next = rules.firstTransitionIn(ms, ms + 2 * 366 * DAY);
  const observesDst = rules.firstTransitionIn(ms - 366 * DAY, ms + 366 * DAY) !== undefined;
  const abbreviation = IANAZone.create(rules.name).offsetName(ms, { format: 'short', locale: 'en-US' }) ?? `GMT${formatOffset(offsetMinutes)}`;
  return {
    name: rules.name,
    offsetMinutes,
    offset: formatOffset(offsetMinutes),
    abbreviation,
    observesDst,
    nextTransition: next
      ? {
          at: new Date(next.at),
          offsetMinutesBefore: next.before / MINUTE,
          offsetMinutesAfter: next.after / MINUTE,
          kind: next.after > next.before ? 'spring_forward' : 'fall_back',
        }
      : null,
  };
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

export type CronFieldName = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek';

const FIELD_LABEL: Record<CronFieldName, string> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  dayOfMonth: 'day-of-month',
  month: 'month',
  dayOfWeek: 'day-of-week',
};

/** A cron expression that cannot be parsed; `field` names the offending field when there is one. */
export class InvalidCronError extends Error {
  readonly expression: string;
  readonly field: CronFieldName | null;
  readonly reason: string;

  constructor(expression: string, reason: string, field: CronFieldName | null = null, fieldText?: string) {
    const where = field ? `${FIELD_LABEL[field]} field ${JSON.stringify(fieldText ?? '')}: ` : '';
    super(`Invalid cron expression ${JSON.stringify(expression)}: ${where}${reason}`);
    this.name = 'InvalidCronError';
    this.expression = expression;
    this.field = field;
    this.reason = reason;
  }
}

interface FieldDef {
  readonly name: CronFieldName;
  readonly min: number;
  readonly max: number;
  /** Largest number accepted in the text (day-of-week accepts 7 for Sunday). */
  readonly maxLiteral: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTH_NAMES = { JAN: 1, FEB: 2, MAR: 3, APR: 4, MAY: 5, JUN: 6, JUL: 7, AUG: 8, SEP: 9, OCT: 10, NOV: 11, DEC: 12 };
const DAY_NAMES = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };

const FIELDS: Record<CronFieldName, FieldDef> = {
  second: { name: 'second', min: 0, max: 59, maxLiteral: 59 },
  minute: { name: 'minute', min: 0, max: 59, maxLiteral: 59 },
  hour: { name: 'hour', min: 0, max: 23, maxLiteral: 23 },
  dayOfMonth: { name: 'dayOfMonth', min: 1, max: 31, maxLiteral: 31 },
  month: { name: 'month', min: 1, max: 12, maxLiteral: 12, names: MONTH_NAMES },
  dayOfWeek: { name: 'dayOfWeek', min: 0, max: 6, maxLiteral: 7, names: DAY_NAMES },
};

const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A next-value table: `table[v]` is the smallest allowed value >= v, or -1. */
function nextTable(values: readonly number[], size: number): Int8Array {
  const table = new Int8Array(size + 2).fill(-1);
  let next = -1;
  const allowed = new Set(values);
  for (let v = size + 1; v >= 0; v--) {
    if (allowed.has(v)) next = v;
    table[v] = next;
  }
  return table;
}

/**
 * A parsed cron expression. Create with `parseCron`; the value sets are sorted
 * and de-duplicated (day-of-week 0 = Sunday .. 6 = Saturday, 7 folded into 0).
 */
export class CronSpec {
  /** The expression as given (trimmed, single-spaced; nicknames kept). */
  readonly expression: string;
  /** True for the 6-field form with seconds first. */
  readonly hasSeconds: boolean;
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  readonly daysOfWeek: readonly number[];
  /** Day-of-month does not start with `*`/`?`. With `dayOfWeekRestricted` too, days match by OR. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
  /**
   * Fixed-time schedule for the DST policy: none of the seconds (6-field form),
   * minute and hour fields starts with `*`/`?`. Otherwise the schedule follows the clock.
   */
  readonly fixedTime: boolean;

  /** @internal */ readonly nextSecond: Int8Array;
  /** @internal */ readonly nextMinute: Int8Array;
  /** @internal */ readonly nextHour: Int8Array;
  /** @internal */ readonly nextMonth: Int8Array;
  /** @internal */ readonly domSet: Uint8Array;
  /** @internal */ readonly dowSet: Uint8Array;
  /** @internal every day of every month matches, so days need not be checked */
  readonly everyDay: boolean;

  /** @internal use parseCron */
  constructor(init: {
    expression: string;
    hasSeconds: boolean;
    fields: Record<CronFieldName, number[]>;
    dayOfMonthRestricted: boolean;
    dayOfWeekRestricted: boolean;
    fixedTime: boolean;
  }) {
    const f = init.fields;
    this.expression = init.expression;
    this.hasSeconds = init.hasSeconds;
    this.seconds = Object.freeze(f.second);
    this.minutes = Object.freeze(f.minute);
    this.hours = Object.freeze(f.hour);
    this.daysOfMonth = Object.freeze(f.dayOfMonth);
    this.months = Object.freeze(f.month);
    this.daysOfWeek = Object.freeze(f.dayOfWeek);
    this.dayOfMonthRestricted = init.dayOfMonthRestricted;
    this.dayOfWeekRestricted = init.dayOfWeekRestricted;
    this.fixedTime = init.fixedTime;
    this.nextSecond = nextTable(f.second, 59);
    this.nextMinute = nextTable(f.minute, 59);
    this.nextHour = nextTable(f.hour, 23);
    this.nextMonth = nextTable(f.month, 12);
    this.domSet = new Uint8Array(32);
    for (const d of f.dayOfMonth) this.domSet[d] = 1;
    this.dowSet = new Uint8Array(7);
    for (const d of f.dayOfWeek) this.dowSet[d] = 1;
    this.everyDay = f.dayOfMonth.length === 31 && f.dayOfWeek.length === 7;
  }

  toString(): string {
    return this.expression;
  }
}

function parseValue(token: string, def: FieldDef, expr: string, fieldText: string): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < def.min || n > def.maxLiteral) {
      throw new InvalidCronError(expr, `value ${n} is out of range ${def.min}-${def.maxLiteral}`, def.name, fieldText);
    }
    return n;
  }
  const named = def.names?.[token.toUpperCase()];
  if (named !== undefined) return named;
  if (/[LW#]/i.test(token) && /^[\dLW#A-Z]+$/i.test(token)) {
    throw new InvalidCronError(expr, `"${token}": the L, W and # extensions are not supported`, def.name, fieldText);
  }
  const hint = def.names ? ` (numbers ${def.min}-${def.maxLiteral} or names like ${Object.keys(def.names).slice(0, 2).join(', ')})` : ` (numbers ${def.min}-${def.maxLiteral})`;
  throw new InvalidCronError(expr, `"${token}" is not a valid value${hint}`, def.name, fieldText);
}

function parseField(text: string, def: FieldDef, expr: string): { values: number[]; star: boolean } {
  const values = new Set<number>();
  const span = def.max - def.min + 1;
  for (const part of text.split(',')) {
    if (part === '') throw new InvalidCronError(expr, 'empty list item', def.name, text);
    const pieces = part.split('/');
    if (pieces.length > 2) throw new InvalidCronError(expr, `"${part}" has more than one "/"`, def.name, text);
    const [rangeText, stepText] = pieces;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        throw new InvalidCronError(expr, `step "${stepText}" must be a positive integer`, def.name, text);
      }
      step = Number(stepText);
      if (step > span) throw new InvalidCronError(expr, `step ${step} is larger than the field's range ${def.min}-${def.max}`, def.name, text);
    }
    let lo: number;
    let hi: number;
    if (rangeText === '*' || rangeText === '?') {
      lo = def.min;
      hi = def.max;
    } else if (rangeText.includes('-')) {
      const ends = rangeText.split('-');
      if (ends.length !== 2 || ends[0] === '' || ends[1] === '') {
        throw new InvalidCronError(expr, `"${rangeText}" is not a valid range (expected start-end)`, def.name, text);
      }
      lo = parseValue(ends[0], def, expr, text);
      hi = parseValue(ends[1], def, expr, text);
      // SAT-SUN and 5-0 read naturally as ranges ending on Sunday.
      if (def.name === 'dayOfWeek' && hi === 0 && lo > 0) hi = 7;
      if (lo > hi) throw new InvalidCronError(expr, `range ${rangeText} starts after it ends`, def.name, text);
    } else {
      lo = parseValue(rangeText, def, expr, text);
      hi = stepText !== undefined ? def.max : lo; // "a/n" means a, a+n, … up to the maximum
    }
    for (let v = lo; v <= hi; v += step) values.add(def.name === 'dayOfWeek' && v === 7 ? 0 : v);
  }
  return { values: [...values].sort((a, b) => a - b), star: text[0] === '*' || text[0] === '?' };
}

const MAX_DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses a 5-field (`minute hour day-of-month month day-of-week`) or 6-field
 * (seconds first) cron expression, or a nickname (`@daily`, `@hourly`, …).
 * Supports `*`, `?` (same as `*`), lists, ranges, steps (`*\/5`, `10-40/10`,
 * `5/15`) and month/day names. Throws InvalidCronError naming the bad field.
 */
export function parseCron(expr: string): CronSpec {
  if (typeof expr !== 'string') throw new InvalidCronError(String(expr), 'the expression must be a string');
  const expression = expr.trim().replace(/\s+/g, ' ');
  if (expression === '') throw new InvalidCronError(expr, 'the expression is empty');
  let body = expression;
  if (body.startsWith('@')) {
    const replacement = NICKNAMES[body.toLowerCase()];
    if (!replacement) {
      throw new InvalidCronError(expr, `unknown nickname "${body}" (supported: ${Object.keys(NICKNAMES).join(', ')})`);
    }
    body = replacement;
  }
  const parts = body.split(' ');
  if (parts.length !== 5 && parts.length !== 6) {
    throw new InvalidCronError(
      expr,
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got ${parts.length}`,
    );
  }
  const hasSeconds = parts.length === 6;
  const texts = hasSeconds ? parts : ['0', ...parts];
  const names: CronFieldName[] = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];
  const parsed = {} as Record<CronFieldName, { values: number[]; star: boolean }>;
  names.forEach((name, i) => {
    parsed[name] = parseField(texts[i], FIELDS[name], expr);
  });

  const dayOfMonthRestricted = !parsed.dayOfMonth.star;
  const dayOfWeekRestricted = !parsed.dayOfWeek.star;
  if (!(dayOfMonthRestricted && dayOfWeekRestricted)) {
    const possible = parsed.month.values.some((m) => parsed.dayOfMonth.values.some((d) => d <= MAX_DAYS_IN_MONTH[m]));
    if (!possible) {
      throw new InvalidCronError(expr, 'no selected day exists in any selected month, so it would never fire', 'dayOfMonth', texts[3]);
    }
  }
  const fixedTime = !parsed.second.star && !parsed.minute.star && !parsed.hour.star;
  return new CronSpec({
    expression,
    hasSeconds,
    fields: {
      second: parsed.second.values,
      minute: parsed.minute.values,
      hour: parsed.hour.values,
      dayOfMonth: parsed.dayOfMonth.values,
      month: parsed.month.values,
      dayOfWeek: parsed.dayOfWeek.values,
    },
    dayOfMonthRestricted,
    dayOfWeekRestricted,
    fixedTime,
  });
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

/** Every valid spec matches within 8 years (29 February skips 2100); a little margin on top. */
const SEARCH_YEARS = 10;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return MAX_DAYS_IN_MONTH[month];
}

/** Date.UTC without its two-digit-year quirk; month 1-12. */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** Vixie: OR when both day fields are restricted, otherwise AND (a `*` field matches every day). */
function dayMatches(spec: CronSpec, day: number, dow: number): boolean {
  if (spec.dayOfMonthRestricted && spec.dayOfWeekRestricted) return spec.domSet[day] === 1 || spec.dowSet[dow] === 1;
  return spec.domSet[day] === 1 && spec.dowSet[dow] === 1;
}

/**
 * @internal The smallest matching wall time >= `wall` (floating ms, whole
 * seconds), or -1 if none within SEARCH_YEARS. Field by field, with carries;
 * never scans minute by minute.
 */
export function nextMatchingWallTime(spec: CronSpec, wall: number): number {
  const d = new Date(wall);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth() + 1;
  let day = d.getUTCDate();
  let hour = d.getUTCHours();
  let minute = d.getUTCMinutes();
  let second = d.getUTCSeconds();
  const lastYear = year + SEARCH_YEARS;

  while (year <= lastYear) {
    const m = spec.nextMonth[month];
    if (m < 0) {
      year++;
      month = 1;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (m !== month) {
      month = m;
      day = 1;
      hour = minute = second = 0;
    }

    const dim = daysInMonth(year, month);
    if (day > dim) {
      month++;
      day = 1;
      hour = minute = second = 0;
      if (month > 12) {
        month = 1;
        year++;
      }
      continue;
    }
    if (!spec.everyDay) {
      let dow = new Date(utc(year, month, day, 0, 0, 0)).getUTCDay();
      let found = false;
      while (day <= dim) {
        if (dayMatches(spec, day, dow)) {
          found = true;
          break;
        }
        day++;
        dow = dow === 6 ? 0 : dow + 1;
        hour = minute = second = 0;
      }
      if (!found) {
        month++;
        day = 1;
        hour = minute = second = 0;
        if (month > 12) {
          month = 1;
          year++;
        }
        continue;
      }
    }

    const h = spec.nextHour[hour];
    if (h < 0) {
      day++;
      hour = minute = second = 0;
      continue; // day overflow is handled at the top
    }
    if (h !== hour) {
      hour = h;
      minute = second = 0;
    }
    const mi = spec.nextMinute[minute];
    if (mi < 0) {
      hour++;
      minute = second = 0;
      if (hour > 23) {
        hour = 0;
        day++;
      }
      continue;
    }
    if (mi !== minute) {
      minute = mi;
      second = 0;
    }
    const s = spec.nextSecond[second];
    if (s < 0) {
      minute++;
      second = 0;
      if (minute > 59) {
        minute = 0;
        hour++;
        if (hour > 23) {
          hour = 0;
          day++;
        }
      }
      continue;
    }
    return utc(year, month, day, hour, minute, s);
  }
  return -1;
}

function nextFireMs(spec: CronSpec, rules: ZoneRules, afterMs: number): number | null {
  // Fires are on whole seconds, strictly after `after`.
  const from = Math.floor(afterMs / SECOND) * SECOND + SECOND;

  if (spec.fixedTime) {
    // Smallest wall time whose resolved instant is >= from. Resolution is
    // non-decreasing in wall time, so the answer is resolve(nextMatch(L)).
    let lower = rules.wallAt(from - SECOND) + SECOND; // at a spring-forward instant this is the gap start
    const r = rules.resolve(lower);
    if (r.kind === 'repeated' && r.instant < from) lower = r.repeatedUntilWall!; // the second pass of a repeated hour never fires
    for (let guard = 0; guard < 1_000; guard++) {
      const wall = nextMatchingWallTime(spec, lower);
      if (wall < 0) return null;
      const instant = rules.resolve(wall).instant;
      if (instant >= from) return instant;
      lower = wall + SECOND; // defensive: cannot happen for a non-decreasing resolution
    }
    return null;
  }

  // Clock-following: walk stretches of constant offset. Within one stretch,
  // the first matching wall time is the first matching instant.
  let cursor = from;
  for (let guard = 0; guard < 8 * SEARCH_YEARS + 8; guard++) {
    const offset = rules.offsetAt(cursor);
    const wall = nextMatchingWallTime(spec, cursor + offset);
    if (wall < 0) return null;
    const candidate = wall - offset;
    const transition = rules.firstTransitionIn(cursor, candidate);
    if (!transition) return candidate;
    cursor = transition.at; // nothing matched before the offset changed: continue on the new clock
  }
  return null;
}

function checkAfter(after: Date, fn: string): number {
  const ms = after instanceof Date ? after.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new RangeError(`${fn}: \`after\` must be a valid Date`);
  return ms;
}

/**
 * The first fire time strictly after `after` of `spec` read in `timezone`, or
 * null when there is none within the search horizon (about ten years).
 * Throws InvalidTimezoneError for an unknown zone.
 */
export function nextFireTime(spec: CronSpec, timezone: string, after: Date): Date | null {
  const ms = checkAfter(after, 'nextFireTime');
  const next = nextFireMs(spec, zoneRules(timezone), ms);
  return next === null ? null : new Date(next);
}

/** The next `count` fire times strictly after `after` (fewer if the schedule ends). */
export function nextFireTimes(spec: CronSpec, timezone: string, after: Date, count: number): Date[] {
  let ms = checkAfter(after, 'nextFireTimes');
  if (!Number.isInteger(count) || count < 0 || count > 100_000) {
    throw new RangeError(`nextFireTimes: count must be an integer from 0 to 100000, got ${count}`);
  }
  const rules = zoneRules(timezone);
  const out: Date[] = [];
  while (out.length < count) {
    const next = nextFireMs(spec, rules, ms);
    if (next === null) break;
    out.push(new Date(next));
    ms = next;
  }
  return out;
}
