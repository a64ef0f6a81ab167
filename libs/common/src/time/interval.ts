/**
 * Interval schedules: fire every N (>= 1 second) of real elapsed time, anchored
 * at a start instant: anchor, anchor + every, anchor + 2·every, …
 *
 * Intervals are timezone-free on purpose: "every 1d" is every 86,400 s, so it
 * drifts by an hour against the local wall clock across a DST change. A job
 * that must run at a time of day is a cron schedule, not an interval.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

export const MIN_INTERVAL_MS = SECOND;

/** An interval that is not a whole number of milliseconds >= 1 second, or an unreadable duration. */
export class InvalidIntervalError extends Error {
  constructor(reason: string) {
    super(`Invalid interval: ${reason}`);
    this.name = 'InvalidIntervalError';
  }
}

export interface IntervalSpec {
  /** Period in milliseconds, >= 1000. */
  readonly everyMs: number;
  /** The first fire instant; every other one is a whole number of periods later. */
  readonly anchor: Date;
}

/** Validates and freezes an interval schedule. */
export function createInterval(everyMs: number, anchor: Date): IntervalSpec {
  if (!Number.isSafeInteger(everyMs) || everyMs < MIN_INTERVAL_MS) {
    throw new InvalidIntervalError(`the period must be a whole number of milliseconds >= ${MIN_INTERVAL_MS} (1 second), got ${everyMs}`);
  }
  const anchorMs = anchor instanceof Date ? anchor.getTime() : NaN;
  if (!Number.isFinite(anchorMs)) throw new InvalidIntervalError('the anchor must be a valid Date');
  return Object.freeze({ everyMs, anchor: new Date(anchorMs) });
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK };
const COMPACT = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

/**
 * Parses a duration into milliseconds: compact (`90s`, `15m`, `1h30m`, `2d`,
 * `1w`, `500ms`) or ISO 8601 (`PT15M`, `P1DT2H`, `PT0.5S`). Years and months
 * are refused because they have no fixed length. Days are 24 hours.
 * Does not enforce the 1-second minimum; createInterval does.
 */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new InvalidIntervalError(`expected a duration string, got ${typeof text}`);
  const t = text.trim();
  let ms = 0;
  if (COMPACT.test(t.toLowerCase())) {
    for (const m of t.toLowerCase().matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  } else {
    const m = ISO.exec(t.toUpperCase());
    if (!m || t.toUpperCase() === 'P' || t.toUpperCase().endsWith('T')) {
      const hint = /^P.*[YM].*$/i.test(t) && !/T.*M/i.test(t) ? ' (years and months have no fixed length; use days or a cron schedule)' : '';
      throw new InvalidIntervalError(`"${text}" is not a duration like 90s, 15m, 1h30m, 2d or PT15M${hint}`);
    }
    const [, w, d, h, mi, s] = m;
    ms = Number(w ?? 0) * WEEK + Number(d ?? 0) * DAY + Number(h ?? 0) * HOUR + Number(mi ?? 0) * MINUTE + Math.round(Number(s ?? 0) * SECOND);
  }
  if (!Number.isSafeInteger(ms)) throw new InvalidIntervalError(`"${text}" is too long`);
  if (ms === 0) throw new InvalidIntervalError(`"${text}" is zero`);
  return ms;
}

/** Number of whole periods from the anchor to `ms`, rounded down (negative before the anchor). */
function periodsSince(spec: IntervalSpec, ms: number): number {
  return Math.floor((ms - spec.anchor.getTime()) / spec.everyMs);
}

/** The first fire instant strictly after `after`: the anchor itself when `after` is before it. */
export function nextIntervalFire(spec: IntervalSpec, after: Date): Date {
  const ms = after.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('nextIntervalFire: `after` must be a valid Date');
  const anchor = spec.anchor.getTime();
  if (ms < anchor) return new Date(anchor);
  return new Date(anchor + (periodsSince(spec, ms) + 1) * spec.everyMs);
}

/** The last fire instant at or before `atOrBefore`, or null before the anchor. */
export function previousIntervalFire(spec: IntervalSpec, atOrBefore: Date): Date | null {
  const ms = atOrBefore.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('previousIntervalFire: `atOrBefore` must be a valid Date');
  const anchor = spec.anchor.getTime();
  if (ms < anchor) return null;
  return new Date(anchor + periodsSince(spec, ms) * spec.everyMs);
}
