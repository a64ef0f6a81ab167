/**
 * What to fire when a schedule is due — possibly long overdue, after the
 * scheduler was down — under its missed-run policy. Generic over any schedule
 * kind through its `next(after)` function (cron, interval, RRULE).
 *
 * The due occurrences are `lastPlanned` (the fire time the schedule planned,
 * i.e. its stored next-fire instant) and every later occurrence up to `now`,
 * inclusive. Policies:
 *
 * - `skip`: do not catch up. Only the latest due occurrence fires, and only if
 *   it is on time — no older than `graceMs` (default 60 s, Quartz's misfire
 *   threshold), which absorbs ordinary polling and claim latency. Everything
 *   else is skipped, so after an outage nothing fires until the next future
 *   occurrence.
 * - `fire_once`: collapse the backlog into one run: the latest due occurrence
 *   fires, however late; older ones are skipped.
 * - `fire_all`: every due occurrence fires, oldest first, bounded by `maxRuns`
 *   (default 100). Beyond the bound the OLDEST are dropped and the most recent
 *   `maxRuns` kept: they include the on-time occurrence and reflect the
 *   current state, and a bounded catch-up cannot flood consumers after a long
 *   outage of a high-frequency schedule.
 *
 * `next` is the schedule's new next-fire instant (the first occurrence after
 * `now`), or null if the schedule has ended.
 *
 * Cost: a backlog of up to `scanLimit` occurrences is walked exactly. A longer
 * one (a per-second schedule down for a day) is not enumerated: its tail is
 * found by searching windows backwards from `now`, and `skipped` is then a
 * lower bound (`skippedExact: false`).
 */

export type MissedRunPolicy = 'skip' | 'fire_once' | 'fire_all';

export const MISSED_RUN_POLICIES: readonly MissedRunPolicy[] = ['skip', 'fire_once', 'fire_all'];

export const DEFAULT_MAX_MISSED_RUNS = 100;
export const DEFAULT_MISSED_RUN_GRACE_MS = 60_000;
const DEFAULT_SCAN_LIMIT = 10_000;

export interface MissedOccurrencesInput {
  /** The schedule's next-fire function: the first occurrence strictly after `after`, or null when it has ended. */
  readonly next: (after: Date) => Date | null;
  /** The fire time the schedule last planned (its stored next-fire instant): the oldest candidate. */
  readonly lastPlanned: Date;
  readonly now: Date;
  readonly policy: MissedRunPolicy;
  /** fire_all: most occurrences to fire; default 100. */
  readonly maxRuns?: number;
  /** skip: how late the latest occurrence may be and still fire; default 60,000 ms. */
  readonly graceMs?: number;
  /** Backlogs up to this many occurrences are walked exactly; default 10,000. */
  readonly scanLimit?: number;
}

export interface MissedOccurrences {
  /** Occurrences to fire now, oldest first. */
  readonly fire: Date[];
  /** Due occurrences that will not fire. */
  readonly skipped: number;
  /** False when the backlog was too long to count and `skipped` is a lower bound. */
  readonly skippedExact: boolean;
  /** The first occurrence after `now`: the schedule's new next-fire instant; null when it has ended. */
  readonly next: Date | null;
}

function validDate(d: Date, name: string): number {
  const ms = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new RangeError(`missedOccurrences: \`${name}\` must be a valid Date`);
  return ms;
}

/** Calls `next` and insists that it moves forward, so a faulty schedule cannot loop forever. */
function step(next: (after: Date) => Date | null, after: number): number | null {
  const d = next(new Date(after));
  if (d === null) return null;
  const ms = d.getTime();
  if (!Number.isFinite(ms) || ms <= after) {
    throw new Error(`missedOccurrences: next(${new Date(after).toISOString()}) returned ${String(d)}, which is not after it`);
  }
  return ms;
}

interface Backlog {
  /** The last `keep` due occurrences, oldest first. */
  tail: number[];
  /** Number of due occurrences (exact or a lower bound). */
  total: number;
  exact: boolean;
  /** First occurrence after now. */
  next: number | null;
}

/** Due occurrences in [first, now]: their number and the last `keep` of them. */
function backlog(next: MissedOccurrencesInput['next'], first: number, now: number, keep: number, scanLimit: number): Backlog {
  const tail: number[] = [];
  let total = 0;
  let cur: number | null = first;
  while (cur !== null && cur <= now && total < scanLimit) {
    tail.push(cur);
    if (tail.length > keep) tail.shift();
    total++;
    cur = step(next, cur);
  }
  if (cur === null || cur > now) return { tail, total, exact: true, next: cur };

  // Too long to walk: find the tail from windows ending at `now`, widening until
  // the window holds `keep` occurrences or reaches back to where the walk stopped.
  const walked = tail[tail.length - 1];
  const spacing = Math.max(1, (walked - first) / Math.max(1, total - 1));
  let width = Math.max(1_000, Math.ceil(spacing * (keep + 1) * 2));
  for (;;) {
    const from = now - width;
    if (from <= walked) {
      // The rest is short now: finish the exact walk from where it stopped.
      let c: number | null = cur;
      while (c !== null && c <= now) {
        tail.push(c);
        if (tail.length > keep) tail.shift();
        total++;
        c = step(next, c);
      }
      return { tail, total, exact: true, next: c };
    }
    const window: number[] = [];
    let c = step(next, from);
    while (c !== null && c <= now) {
      window.push(c);
      if (window.length > keep) window.shift();
      c = step(next, c);
    }
    if (window.length >= keep) return { tail: window, total: total + window.length, exact: false, next: c };
    width *= 4;
  }
}

/** The occurrences to fire now under `policy`, how many are skipped, and the schedule's next fire instant. */
export function missedOccurrences(input: MissedOccurrencesInput): MissedOccurrences {
  const { next, policy } = input;
  const first = validDate(input.lastPlanned, 'lastPlanned');
  const now = validDate(input.now, 'now');
  const maxRuns = input.maxRuns ?? DEFAULT_MAX_MISSED_RUNS;
  const graceMs = input.graceMs ?? DEFAULT_MISSED_RUN_GRACE_MS;
  const scanLimit = input.scanLimit ?? DEFAULT_SCAN_LIMIT;
  if (!MISSED_RUN_POLICIES.includes(policy)) throw new RangeError(`missedOccurrences: unknown policy ${JSON.stringify(policy)}`);
  if (!Number.isInteger(maxRuns) || maxRuns < 1) throw new RangeError(`missedOccurrences: maxRuns must be a positive integer, got ${maxRuns}`);
  if (!(graceMs >= 0)) throw new RangeError(`missedOccurrences: graceMs must be >= 0, got ${graceMs}`);
  if (!Number.isInteger(scanLimit) || scanLimit < 1) throw new RangeError(`missedOccurrences: scanLimit must be a positive integer, got ${scanLimit}`);

  if (first > now) return { fire: [], skipped: 0, skippedExact: true, next: new Date(first) };

  const keep = policy === 'fire_all' ? maxRuns : 1;
  const due = backlog(next, first, now, keep, Math.max(scanLimit, keep));
  let fire = due.tail;
  if (policy === 'skip') fire = fire.filter((t) => now - t <= graceMs);
  return {
    fire: fire.map((t) => new Date(t)),
    skipped: due.total - fire.length,
    skippedExact: due.exact,
    next: due.next === null ? null : new Date(due.next),
  };
}
