/**
 * A cron preview that says how DST changed each firing, for people checking a
 * schedule before the change happens. The firings are exactly those of
 * `nextFireTimes` (the policy of ARCHITECTURE.md invariant 6 lives there);
 * this file only explains them:
 *
 * - fixed-time schedules: a wall time inside a spring-forward gap is `shifted`
 *   to the instant the gap ends (several wall times in one gap collapse into
 *   that firing); a wall time that occurs twice is `folded`: it fires at its
 *   first occurrence and the repeat does not fire;
 * - clock-following schedules: wall times inside a gap do not exist and are
 *   `skipped`; in a repeated stretch each pass fires (`repeated`, pass 1 or 2).
 */
import { nextFireTimes, nextMatchingWallTime, zoneRules, type CronSpec, type ZoneRules } from './cron-expression.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Wall times listed per gap; a `* * * * * *` schedule would otherwise list 3,600. */
const MAX_WALLS_PER_GAP = 12;

export type CronFiringDst =
  /** Fixed time inside a spring-forward gap: fires when the gap ends. `scheduledLocal`: the wall time(s) it stands for. */
  | { kind: 'shifted'; scheduledLocal: string[] }
  /** Fixed time that occurs twice (fall-back): fires at the first occurrence; `repeatSkippedAt` does not fire. */
  | { kind: 'folded'; repeatSkippedAt: Date }
  /** Clock-following schedule in a repeated stretch: fires on both passes of the wall clock. */
  | { kind: 'repeated'; pass: 1 | 2 };

export interface CronFiring {
  at: Date;
  /** The local wall clock at `at`, `YYYY-MM-DDTHH:mm:ss`. */
  local: string;
  /** The UTC offset at `at`, `+hh:mm`. */
  offset: string;
  dst: CronFiringDst | null;
}

/** A wall time of a clock-following schedule that does not exist (inside a spring-forward gap), so it does not fire. */
export interface SkippedWallTime {
  local: string;
  /** The instant the clocks jumped over it. */
  transitionAt: Date;
}

export interface CronPreview {
  policy: 'fixed-time' | 'clock-following';
  firings: CronFiring[];
  /** Clock-following only: wall times between `after` and the last firing that were skipped (at most 12 per gap). */
  skipped: SkippedWallTime[];
}

/** `YYYY-MM-DDTHH:mm:ss` of a floating wall time. */
function formatWall(wall: number): string {
  return new Date(wall).toISOString().slice(0, 19);
}

function formatOffset(offsetMs: number): string {
  const minutes = Math.round(offsetMs / MINUTE);
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The local wall clock (`YYYY-MM-DDTHH:mm:ss`) and UTC offset (`+hh:mm`) of an instant in a zone. */
export function localTimeOf(at: Date, timezone: string): { local: string; offset: string } {
  const offset = zoneRules(timezone).offsetAt(at.getTime());
  return { local: formatWall(at.getTime() + offset), offset: formatOffset(offset) };
}

/** Matching wall times in [from, to), at most MAX_WALLS_PER_GAP. */
function matchingWalls(spec: CronSpec, from: number, to: number): number[] {
  const out: number[] = [];
  let w = nextMatchingWallTime(spec, from);
  while (w >= 0 && w < to && out.length < MAX_WALLS_PER_GAP) {
    out.push(w);
    w = nextMatchingWallTime(spec, w + SECOND);
  }
  return out;
}

function explainFixed(spec: CronSpec, rules: ZoneRules, ms: number): CronFiringDst | null {
  const gap = rules.transitionsIn(ms - SECOND, ms).find((t) => t.at === ms && t.after > t.before);
  if (gap) {
    const walls = matchingWalls(spec, gap.at + gap.before, gap.at + gap.after);
    if (walls.length) return { kind: 'shifted', scheduledLocal: walls.map(formatWall) };
  }
  const wall = rules.wallAt(ms);
  const r = rules.resolve(wall);
  if (r.kind !== 'repeated') return null;
  const fallBack = rules.transitionsIn(ms - 30 * HOUR, ms + 30 * HOUR).find((t) => t.after < t.before && wall >= t.at + t.after && wall < t.at + t.before);
  return fallBack ? { kind: 'folded', repeatSkippedAt: new Date(wall - fallBack.after) } : null;
}

function explainClock(rules: ZoneRules, ms: number): CronFiringDst | null {
  const r = rules.resolve(rules.wallAt(ms));
  return r.kind === 'repeated' ? { kind: 'repeated', pass: r.instant === ms ? 1 : 2 } : null;
}

/** The next `count` firings strictly after `after`, each with how DST affected it. */
export function previewCron(spec: CronSpec, timezone: string, after: Date, count: number): CronPreview {
  const rules = zoneRules(timezone);
  const times = nextFireTimes(spec, timezone, after, count);
  const firings = times.map((d): CronFiring => {
    const ms = d.getTime();
    const offset = rules.offsetAt(ms);
    return {
      at: d,
      local: formatWall(ms + offset),
      offset: formatOffset(offset),
      dst: spec.fixedTime ? explainFixed(spec, rules, ms) : explainClock(rules, ms),
    };
  });
  const skipped: SkippedWallTime[] = [];
  if (!spec.fixedTime && times.length) {
    for (const t of rules.transitionsIn(after.getTime(), times[times.length - 1].getTime())) {
      if (t.after <= t.before) continue;
      for (const w of matchingWalls(spec, t.at + t.before, t.at + t.after)) skipped.push({ local: formatWall(w), transitionAt: new Date(t.at) });
    }
  }
  return { policy: spec.fixedTime ? 'fixed-time' : 'clock-following', firings, skipped };
}
