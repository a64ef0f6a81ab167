/**
 * Pure schedule arithmetic on top of the shared time engines: validation,
 * a schedule's next-fire function in a timezone, and what one claim fires
 * (missed-run policy, end date, maximum runs, per-tenant timezones).
 */
import { PRIORITIES, assertSubjectToken, type Priority } from '../messaging/subjects.js';
import { parsePriority } from '../jobs/priority.js';
import { DEFAULT_JOB_MAX_ATTEMPTS } from '../jobs/runtime/job-spec.js';
import {
  createInterval,
  describeTimezone,
  isValidTimezone,
  localTimeOf,
  MISSED_RUN_POLICIES,
  missedOccurrences,
  nextFireTime,
  nextFireTimes,
  nextIntervalFire,
  parseCron,
  parseDuration,
  previewCron,
  type CronFiringDst,
  type CronSpec,
  type SkippedWallTime,
  type TimezoneTransition,
} from '../time/index.js';
import {
  SCHEDULE_KINDS,
  SCHEDULE_SCOPES,
  ScheduleValidationError,
  TENANT_TIMEZONE,
  type Schedule,
  type ScheduleInput,
} from './schedule.types.js';

/** The stored fields of a schedule derived from an input (no id, counters or cursors). */
export type ScheduleDraft = Pick<
  Schedule,
  | 'name' | 'kind' | 'job' | 'cron' | 'intervalMs' | 'runAt' | 'eventType' | 'timezone' | 'scope' | 'companyId' | 'payload'
  | 'options' | 'missedPolicy' | 'maxCatchUp' | 'startsAt' | 'endsAt' | 'maxRuns' | 'enabled' | 'description'
>;

/** The fields timing depends on. */
export type Timing = Pick<Schedule, 'kind' | 'cron' | 'intervalMs' | 'runAt' | 'startsAt' | 'endsAt' | 'createdAt'>;

const NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

function toDate(v: Date | string | undefined, key: string, problems: string[]): Date | null {
  if (v === undefined || v === null) return null;
  const d = v instanceof Date ? v : new Date(v);
  if (!Number.isFinite(d.getTime())) {
    problems.push(`${key}: not a valid date: ${JSON.stringify(v)}`);
    return null;
  }
  return d;
}

/** Validates an input and returns what is stored, or throws listing every problem. */
export function draftSchedule(input: ScheduleInput, now: Date): ScheduleDraft {
  const problems: string[] = [];
  if (typeof input.name !== 'string' || !NAME.test(input.name)) problems.push(`name: 1-200 characters of letters, digits, _ . : - (got ${JSON.stringify(input.name)})`);
  if (!SCHEDULE_KINDS.includes(input.kind)) problems.push(`kind: one of ${SCHEDULE_KINDS.join(', ')} (got ${JSON.stringify(input.kind)})`);
  if (typeof input.job !== 'string' || input.job === '') problems.push('job: required');
  else {
    try {
      for (const t of input.job.split('.')) assertSubjectToken(t, 'job name segment');
    } catch (e) {
      problems.push(`job: ${(e as Error).message}`);
    }
  }
  const scope = input.scope ?? 'global';
  if (!SCHEDULE_SCOPES.includes(scope)) problems.push(`scope: one of ${SCHEDULE_SCOPES.join(', ')}`);
  if (scope === 'tenant' && !input.companyId) problems.push('companyId: required when scope is "tenant"');
  if (scope !== 'tenant' && input.companyId) problems.push('companyId: only for scope "tenant"');
  if (input.companyId) {
    try {
      assertSubjectToken(input.companyId, 'companyId');
    } catch (e) {
      problems.push(`companyId: ${(e as Error).message}`);
    }
  }
  const timezone = input.timezone ?? 'UTC';
  if (timezone === TENANT_TIMEZONE) {
    if (scope === 'global') problems.push('timezone: "tenant" needs scope per_tenant or tenant');
    if (input.kind === 'once') problems.push('timezone: a one-off fires at an instant; "tenant" does not apply');
  } else if (!isValidTimezone(timezone)) problems.push(`timezone: ${JSON.stringify(timezone)} is not an IANA timezone (or "tenant")`);

  let cron: string | null = null;
  let intervalMs: number | null = null;
  let runAt: Date | null = null;
  let eventType: string | null = null;
  if (input.kind === 'cron') {
    if (!input.cron) problems.push('cron: required for kind cron');
    else {
      try {
        cron = parseCron(input.cron).expression;
      } catch (e) {
        problems.push(`cron: ${(e as Error).message}`);
      }
    }
  } else if (input.cron) problems.push('cron: only for kind cron');
  if (input.kind === 'interval') {
    try {
      const ms = typeof input.every === 'string' ? parseDuration(input.every) : input.every;
      if (ms === undefined) throw new Error('required for kind interval');
      createInterval(ms, now);
      intervalMs = ms;
    } catch (e) {
      problems.push(`every: ${(e as Error).message}`);
    }
  } else if (input.every !== undefined) problems.push('every: only for kind interval');
  if (input.kind === 'once') {
    if (input.runAt !== undefined && input.delayMs !== undefined) problems.push('runAt/delayMs: give one, not both');
    else if (input.runAt !== undefined) runAt = toDate(input.runAt, 'runAt', problems);
    else if (input.delayMs !== undefined) {
      if (!Number.isFinite(input.delayMs) || input.delayMs < 0) problems.push('delayMs: a non-negative number of milliseconds');
      else runAt = new Date(now.getTime() + input.delayMs);
    } else problems.push('runAt or delayMs: required for kind once');
  }
  if (input.kind === 'event') {
    if (!input.eventType) problems.push('eventType: required for kind event');
    else eventType = input.eventType;
  } else if (input.eventType) problems.push('eventType: only for kind event');

  // A name or the seeds' number (1 critical, 5 high, 10 normal, 15 low).
  const priority = parsePriority(input.priority ?? 'normal') ?? (input.priority as Priority);
  if (!PRIORITIES.includes(priority)) problems.push(`priority: one of ${PRIORITIES.join(', ')} (or 1, 5, 10, 15)`);
  const maxAttempts = input.maxAttempts ?? DEFAULT_JOB_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) problems.push('maxAttempts: an integer from 1 to 100');
  if (input.backoff) {
    const b = input.backoff;
    if (!['exponential', 'linear', 'fixed'].includes(b.kind)) problems.push('backoff.kind: exponential, linear or fixed');
    if (!(b.baseMs > 0) || !(b.capMs >= b.baseMs)) problems.push('backoff: baseMs > 0 and capMs >= baseMs');
  }
  if (input.timeoutMs !== undefined && !(Number.isInteger(input.timeoutMs) && input.timeoutMs > 0)) problems.push('timeoutMs: a positive integer');
  if (input.concurrency !== undefined && !(Number.isInteger(input.concurrency) && input.concurrency > 0)) problems.push('concurrency: a positive integer');
  const missedPolicy = input.missedPolicy ?? 'fire_once';
  if (!MISSED_RUN_POLICIES.includes(missedPolicy)) problems.push(`missedPolicy: one of ${MISSED_RUN_POLICIES.join(', ')}`);
  const maxCatchUp = input.maxCatchUp ?? 100;
  if (!Number.isInteger(maxCatchUp) || maxCatchUp < 1 || maxCatchUp > 10_000) problems.push('maxCatchUp: an integer from 1 to 10000');
  const startsAt = toDate(input.startsAt, 'startsAt', problems);
  const endsAt = toDate(input.endsAt, 'endsAt', problems);
  if (startsAt && endsAt && endsAt <= startsAt) problems.push('endsAt: must be after startsAt');
  if (input.maxRuns !== undefined && !(Number.isInteger(input.maxRuns) && input.maxRuns > 0)) problems.push('maxRuns: a positive integer');
  if (input.payload !== undefined && (typeof input.payload !== 'object' || input.payload === null || Array.isArray(input.payload))) problems.push('payload: a JSON object');
  if (problems.length) throw new ScheduleValidationError(problems);
  return {
    name: input.name,
    kind: input.kind,
    job: input.job,
    cron,
    intervalMs,
    runAt,
    eventType,
    timezone,
    scope,
    companyId: input.companyId ?? null,
    payload: input.payload ?? {},
    options: { priority, maxAttempts, backoff: input.backoff ?? null, timeoutMs: input.timeoutMs ?? null, concurrency: input.concurrency ?? null },
    missedPolicy,
    maxCatchUp,
    startsAt,
    endsAt,
    maxRuns: input.maxRuns ?? null,
    enabled: input.enabled ?? true,
    description: input.description ?? null,
  };
}

const cronCache = new Map<string, CronSpec>();
function cronSpec(expr: string): CronSpec {
  let spec = cronCache.get(expr);
  if (!spec) {
    spec = parseCron(expr);
    if (cronCache.size > 10_000) cronCache.clear();
    cronCache.set(expr, spec);
  }
  return spec;
}

/** The schedule's next-fire function read in `timezone`: first occurrence strictly after `after`, or null. */
export function nextFunction(s: Timing, timezone: string): (after: Date) => Date | null {
  const startsMs = s.startsAt?.getTime();
  const endsMs = s.endsAt?.getTime();
  const bounded = (d: Date | null): Date | null => (d === null || (endsMs !== undefined && d.getTime() > endsMs) ? null : d);
  switch (s.kind) {
    case 'cron': {
      const spec = cronSpec(s.cron!);
      return (after) => {
        const from = startsMs !== undefined && after.getTime() < startsMs ? new Date(startsMs - 1) : after;
        return bounded(nextFireTime(spec, timezone, from));
      };
    }
    case 'interval': {
      const spec = createInterval(s.intervalMs!, s.startsAt ?? s.createdAt);
      return (after) => bounded(nextIntervalFire(spec, after));
    }
    case 'once':
      return (after) => (s.runAt && s.runAt.getTime() > after.getTime() ? s.runAt : null);
    default:
      return () => null;
  }
}

/** The first fire instant at or after `now` (one-offs: their instant, even if past, so they still fire). */
export function firstFireAt(s: Timing, timezone: string, now: Date): Date | null {
  if (s.kind === 'once') return s.runAt;
  if (s.kind === 'event' || s.kind === 'manual') return null;
  return nextFunction(s, timezone)(new Date(now.getTime() - 1));
}

/** The next `count` fire times after `now`. */
export function preview(s: Timing, timezone: string, now: Date, count: number): Date[] {
  if (s.kind === 'cron' && !s.startsAt && !s.endsAt) return nextFireTimes(cronSpec(s.cron!), timezone, new Date(now.getTime() - 1), count);
  const next = nextFunction(s, timezone);
  const out: Date[] = [];
  let cursor = new Date(now.getTime() - 1);
  if (s.kind === 'once') return s.runAt && s.runAt >= now ? [s.runAt] : [];
  while (out.length < count) {
    const n = next(cursor);
    if (!n) break;
    out.push(n);
    cursor = n;
  }
  return out;
}

/**
 * The shortest time between two fires of a schedule: its interval, or for a
 * cron expression the smallest gap among its next `samples` fire times (read in
 * UTC for tenant-time schedules); null for one-offs, event and manual schedules.
 */
export function shortestPeriodMs(d: Pick<ScheduleDraft, 'kind' | 'cron' | 'intervalMs' | 'timezone'>, now: Date, samples = 1_000): number | null {
  if (d.kind === 'interval') return d.intervalMs;
  if (d.kind !== 'cron' || !d.cron) return null;
  const times = nextFireTimes(cronSpec(d.cron), d.timezone === TENANT_TIMEZONE ? 'UTC' : d.timezone, now, samples);
  let shortest: number | null = null;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i].getTime() - times[i - 1].getTime();
    if (shortest === null || gap < shortest) shortest = gap;
  }
  return shortest;
}

export interface PreviewFiring {
  at: Date;
  /** Wall clock in the preview's timezone, `YYYY-MM-DDTHH:mm:ss`, and its UTC offset. */
  local: string;
  offset: string;
  /** How a DST change moved this firing (cron only; ARCHITECTURE.md invariant 6). */
  dst: CronFiringDst | null;
}

export interface SchedulePreview {
  /** How DST applies: cron schedules are fixed-time or clock-following; intervals and one-offs are absolute instants. */
  policy: 'fixed-time' | 'clock-following' | 'absolute';
  firings: PreviewFiring[];
  /** Wall times of a clock-following schedule that do not exist on the days shown (spring-forward gaps), so never fire. */
  skipped: SkippedWallTime[];
  /** The zone's next change of UTC offset after `from` (within two years), so a caller can look at the firings around it. */
  nextTransition: TimezoneTransition | null;
}

/** The next `count` firings at or after `from`, each with its local time and what DST did to it. */
export function previewFirings(s: Timing, timezone: string, from: Date, count: number): SchedulePreview {
  const nextTransition = describeTimezone(timezone, from).nextTransition;
  if (s.kind === 'cron') {
    const startsMs = s.startsAt?.getTime() ?? -Infinity;
    const p = previewCron(cronSpec(s.cron!), timezone, new Date(Math.max(from.getTime(), startsMs) - 1), count);
    const firings = s.endsAt ? p.firings.filter((f) => f.at <= s.endsAt!) : p.firings;
    const last = firings[firings.length - 1];
    return { policy: p.policy, firings, skipped: last ? p.skipped.filter((x) => x.transitionAt <= last.at) : [], nextTransition };
  }
  const start = s.startsAt && s.startsAt > from ? s.startsAt : from;
  const firings = preview(s, timezone, start, count).map((at) => ({ at, ...localTimeOf(at, timezone), dst: null }));
  return { policy: 'absolute', firings, skipped: [], nextTransition };
}

/** One occurrence to fire and the tenants it fires for (null: a run without a tenant). */
export interface PlannedOccurrence {
  at: Date;
  companyIds: (string | null)[];
}

export interface ClaimPlan {
  occurrences: PlannedOccurrence[];
  /** Occurrences skipped by the missed-run policy. */
  skipped: number;
  nextFireAt: Date | null;
  zoneCursors: Record<string, string> | null;
  /** Occurrences counted towards maxRuns. */
  fired: number;
}

/** Active tenants grouped by timezone. */
export type TenantsByZone = Map<string, string[]>;

/**
 * What to fire for a due schedule at `now`: its occurrences from the stored
 * cursor(s) under its missed-run policy, for the tenants in scope, and where
 * its cursor(s) move to.
 */
export function planClaim(s: Schedule, now: Date, graceMs: number, tenants: TenantsByZone): ClaimPlan {
  const remaining = s.maxRuns === null ? Infinity : Math.max(0, s.maxRuns - s.runCount);
  const done: ClaimPlan = { occurrences: [], skipped: 0, nextFireAt: null, zoneCursors: null, fired: 0 };
  if (remaining === 0) return done;
  const policy = { policy: s.missedPolicy, maxRuns: s.missedPolicy === 'fire_all' ? s.maxCatchUp : undefined, graceMs, now };

  if (s.timezone !== TENANT_TIMEZONE) {
    if (!s.nextFireAt) return done;
    const r = missedOccurrences({ next: nextFunction(s, s.timezone), lastPlanned: s.nextFireAt, ...policy });
    let fire = r.fire;
    if (fire.length > remaining) fire = fire.slice(0, remaining);
    const ended = s.maxRuns !== null && fire.length >= remaining;
    const companies: (string | null)[] =
      s.scope === 'global' ? [null] : s.scope === 'tenant' ? [s.companyId] : [...tenants.values()].flat();
    return {
      occurrences: companies.length ? fire.map((at) => ({ at, companyIds: companies })) : [],
      skipped: r.skipped,
      nextFireAt: ended ? null : r.next,
      zoneCursors: null,
      fired: fire.length,
    };
  }

  // Timezone "tenant": one cursor per timezone in use by the tenants in scope.
  const zones: TenantsByZone = new Map();
  for (const [zone, ids] of tenants) {
    const inScope = s.scope === 'tenant' ? ids.filter((id) => id === s.companyId) : ids;
    if (inScope.length) zones.set(zone, inScope);
  }
  const cursors: Record<string, string> = {};
  const occurrences: PlannedOccurrence[] = [];
  let skipped = 0;
  let fired = 0;
  let nextFireAt: Date | null = null;
  for (const [zone, ids] of zones) {
    const next = nextFunction(s, zone);
    const stored = s.zoneCursors?.[zone];
    const lastPlanned = stored ? new Date(stored) : next(new Date(now.getTime() - 1_000));
    if (!lastPlanned) continue;
    const r = missedOccurrences({ next, lastPlanned, ...policy });
    let fire = r.fire;
    if (fired + fire.length > remaining) fire = fire.slice(0, remaining - fired);
    fired += fire.length;
    skipped += r.skipped;
    for (const at of fire) occurrences.push({ at, companyIds: ids });
    if (r.next) {
      cursors[zone] = r.next.toISOString();
      if (!nextFireAt || r.next < nextFireAt) nextFireAt = r.next;
    }
  }
  if (s.maxRuns !== null && fired >= remaining) nextFireAt = null;
  occurrences.sort((a, b) => a.at.getTime() - b.at.getTime());
  return { occurrences, skipped, nextFireAt, zoneCursors: cursors, fired };
}
