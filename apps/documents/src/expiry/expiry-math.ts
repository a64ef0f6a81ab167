import { DateTime } from 'luxon';

/** Pure expiry arithmetic: no I/O, so it is unit-tested on its own (expiry-math.spec.ts). */

export const DEFAULT_THRESHOLDS = [30, 14, 7, 1] as const;
export const DAY_MS = 24 * 3600_000;

/** The alert a document is due, given the thresholds already crossed. */
export type DueAlert = { kind: 'expired'; threshold: 0; daysLeft: number } | { kind: 'expiring'; threshold: number; daysLeft: number };

const zoneCache = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  let ok = zoneCache.get(zone);
  if (ok === undefined) {
    ok = DateTime.now().setZone(zone).isValid;
    zoneCache.set(zone, ok);
  }
  return ok;
}

const BUCKET_MS = 15 * 60_000;
const MAX_CACHED_BUCKETS = 200_000;
/** Per zone: UTC offset (minutes) of each 15-minute bucket with no offset change inside it. */
const offsetCache = new Map<string, Map<number, number>>();
let cachedBuckets = 0;

function exactOffset(ms: number, zone: string): number {
  const local = DateTime.fromMillis(ms, { zone });
  if (!local.isValid) throw new Error(`invalid time zone "${zone}"`);
  return local.offset;
}

/**
 * The zone's UTC offset at an instant. Scans ask this for every document, so
 * offsets are cached per 15-minute bucket; a bucket whose two ends disagree
 * (a DST change inside it) is never cached and always computed exactly.
 */
export function zoneOffsetMinutes(ms: number, zone: string): number {
  let zoneBuckets = offsetCache.get(zone);
  if (!zoneBuckets) offsetCache.set(zone, (zoneBuckets = new Map()));
  const bucket = Math.floor(ms / BUCKET_MS);
  const cached = zoneBuckets.get(bucket);
  if (cached !== undefined) return cached;
  const start = exactOffset(bucket * BUCKET_MS, zone);
  const end = exactOffset((bucket + 1) * BUCKET_MS - 1, zone);
  if (start !== end) return exactOffset(ms, zone);
  if (cachedBuckets >= MAX_CACHED_BUCKETS) {
    offsetCache.clear();
    offsetCache.set(zone, (zoneBuckets = new Map()));
    cachedBuckets = 0;
  }
  zoneBuckets.set(bucket, start);
  cachedBuckets++;
  return start;
}

/** Days since 1970-01-01 of the calendar date `instant` has on a wall clock in `zone`. */
export function localDayNumber(instant: Date, zone: string): number {
  const ms = instant.getTime();
  return Math.floor((ms + zoneOffsetMinutes(ms, zone) * 60_000) / DAY_MS);
}

/**
 * Calendar days from `asOf` to `expiresAt` in the tenant's time zone: 0 when
 * both fall on the same local date, 1 when it expires tomorrow (local), and so on.
 */
export function localDaysUntil(expiresAt: Date, asOf: Date, zone: string): number {
  return localDayNumber(expiresAt, zone) - localDayNumber(asOf, zone);
}

/**
 * The alert due at `asOf`: `expired` once the expiry instant has passed;
 * otherwise the smallest threshold T with localDaysUntil <= T (several
 * thresholds crossed since the last scan raise only the nearest one, never a
 * stale "30 days left" for a document that has 5); null when none is crossed.
 */
export function dueAlert(expiresAt: Date, asOf: Date, zone: string, thresholds: readonly number[]): DueAlert | null {
  const daysLeft = localDaysUntil(expiresAt, asOf, zone);
  if (asOf.getTime() >= expiresAt.getTime()) return { kind: 'expired', threshold: 0, daysLeft };
  let best: number | undefined;
  for (const t of thresholds) if (t >= daysLeft && (best === undefined || t < best)) best = t;
  return best === undefined ? null : { kind: 'expiring', threshold: best, daysLeft };
}

/**
 * The instant threshold T is crossed: local midnight (start of day, so a DST
 * gap at midnight moves it to the first valid instant) of the date T days
 * before the expiry's local date.
 */
export function thresholdCrossing(expiresAt: Date, threshold: number, zone: string): Date {
  return DateTime.fromJSDate(expiresAt, { zone }).startOf('day').minus({ days: threshold }).startOf('day').toJSDate();
}

/** The thresholds for one document: its type's override, else the tenant's. */
export function thresholdsFor(type: string | null | undefined, tenant: readonly number[], overrides: Record<string, readonly number[]>): readonly number[] {
  if (type != null && Object.prototype.hasOwnProperty.call(overrides, type)) return overrides[type];
  return tenant;
}

/** The largest threshold of the tenant, its overrides included: how far ahead a scan must look. */
export function horizonDays(tenant: readonly number[], overrides: Record<string, readonly number[]>): number {
  return Math.max(0, ...tenant, ...Object.values(overrides).flat());
}

/**
 * The escalation level an unacknowledged alert has reached at `asOf`: one level
 * per full `afterDays` since it was raised, capped at the chain's length.
 */
export function escalationLevelAt(alertedAt: Date, asOf: Date, afterDays: number, chainLength: number): number {
  if (chainLength <= 0 || afterDays <= 0) return 0;
  const periods = Math.floor((asOf.getTime() - alertedAt.getTime()) / (afterDays * DAY_MS));
  return Math.max(0, Math.min(chainLength, periods));
}

/** Deterministic event ids: a republish after a crash is dropped by JetStream's dedup window. */
export const alertEventId = (companyId: string, documentId: string, expiresAt: Date, threshold: number): string =>
  `${companyId}:${documentId}:${expiresAt.toISOString()}:${threshold === 0 ? 'expired' : threshold}`;

export const escalationEventId = (companyId: string, documentId: string, expiresAt: Date, threshold: number, level: number): string =>
  `${alertEventId(companyId, documentId, expiresAt, threshold)}:escalation-${level}`;
