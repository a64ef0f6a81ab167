import 'reflect-metadata';

/**
 * The metadata keys `@nestjs/schedule` 12 writes (dist/schedule.constants.js;
 * the package exports neither them nor its SchedulerMetadataAccessor, so they
 * are repeated here and a unit test decorates with the real @Cron/@Interval/
 * @Timeout to prove they still match).
 */
export const NEST_SCHEDULE_KEYS = {
  name: 'SCHEDULER_NAME',
  type: 'SCHEDULER_TYPE',
  cron: 'SCHEDULE_CRON_OPTIONS',
  interval: 'SCHEDULE_INTERVAL_OPTIONS',
  timeout: 'SCHEDULE_TIMEOUT_OPTIONS',
} as const;

/** @nestjs/schedule's SchedulerType (dist/enums/scheduler-type.enum.js, not exported either). */
const SCHEDULER_TYPE = { cron: 1, timeout: 2, interval: 3 } as const;

/** A method decorated with @Cron, @Interval or @Timeout, as @nestjs/schedule declared it. */
export interface NestScheduledMethod {
  kind: 'cron' | 'interval' | 'timeout';
  /** The `name` given to the decorator, if any. */
  name: string | undefined;
  /** cron: the expression, or the instant of a @Cron(Date). */
  cronTime?: unknown;
  /** interval / timeout: milliseconds. */
  ms?: number;
  /** @Cron options (timeZone, utcOffset, disabled, …). */
  options: Record<string, unknown>;
}

/** A declaration Metronome cannot honour; the message names the method and what to change. */
export class ScheduleDeclarationError extends Error {
  constructor(readonly problems: string[]) {
    super(`@nestjs/schedule declarations Metronome cannot run:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ScheduleDeclarationError';
  }
}

/** The @nestjs/schedule declaration on a method (its function), or undefined. */
export function readNestSchedule(method: object): NestScheduledMethod | undefined {
  const type = Reflect.getMetadata(NEST_SCHEDULE_KEYS.type, method) as number | undefined;
  if (type === undefined) return undefined;
  const name = Reflect.getMetadata(NEST_SCHEDULE_KEYS.name, method) as string | undefined;
  if (type === SCHEDULER_TYPE.cron) {
    const { cronTime, ...options } = (Reflect.getMetadata(NEST_SCHEDULE_KEYS.cron, method) ?? {}) as Record<string, unknown>;
    return { kind: 'cron', name, cronTime, options };
  }
  if (type === SCHEDULER_TYPE.interval) {
    const meta = Reflect.getMetadata(NEST_SCHEDULE_KEYS.interval, method) as { timeout?: number } | undefined;
    return { kind: 'interval', name, ms: meta?.timeout, options: {} };
  }
  if (type === SCHEDULER_TYPE.timeout) {
    const meta = Reflect.getMetadata(NEST_SCHEDULE_KEYS.timeout, method) as { timeout?: number } | undefined;
    return { kind: 'timeout', name, ms: meta?.timeout, options: {} };
  }
  return undefined;
}

const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * The IANA zone for @Cron's `utcOffset` (the `cron` package reads a number as
 * minutes east of UTC), or a problem. Only whole hours have a fixed IANA zone
 * (`Etc/GMT-5` is UTC+5: the sign is POSIX's); a number under 60 is refused as
 * ambiguous (cron 1.x read it as hours, cron 2+ as minutes), and so is any
 * other offset: a fixed offset never follows daylight saving, so the zone
 * should be named.
 */
export function zoneOfUtcOffset(offset: unknown): { zone: string } | { problem: string } {
  if (typeof offset !== 'number' || !Number.isFinite(offset)) {
    return { problem: `utcOffset ${JSON.stringify(offset)} is not a number of minutes; name the zone with timeZone instead` };
  }
  if (offset === 0) return { zone: 'UTC' };
  if (Math.abs(offset) < 60) {
    return {
      problem: `utcOffset ${offset} is ambiguous (hours in cron 1.x, minutes since cron 2); give minutes as a multiple of 60 (${offset * 60} for UTC${offset > 0 ? '+' : ''}${offset}) or name the zone with timeZone`,
    };
  }
  if (!Number.isInteger(offset) || offset % 60 !== 0 || Math.abs(offset) > MAX_OFFSET_MINUTES) {
    return { problem: `utcOffset ${offset} minutes has no fixed IANA zone (only whole hours from -12 to +14 do); name the zone with timeZone (e.g. "Asia/Kolkata")` };
  }
  const hours = offset / 60;
  if (hours < -12) return { problem: `utcOffset ${offset} minutes is below UTC-12; name the zone with timeZone` };
  // POSIX signs: Etc/GMT-5 is five hours east of Greenwich.
  return { zone: `Etc/GMT${hours > 0 ? '-' : '+'}${Math.abs(hours)}` };
}
