import 'reflect-metadata';
import type { BackoffPolicy } from '../messaging/backoff.js';
import type { Priority } from '../messaging/subjects.js';
import type { MissedRunPolicy } from '../time/index.js';

/** What Metronome adds to a method's @Cron / @Interval / @Timeout. */
export interface MetronomeJobOptions {
  /** One run per active tenant, read in each tenant's timezone (the tenant registry's) unless @Cron names a timeZone. */
  perTenant?: boolean;
  /** The priority its runs are published at (default normal). */
  priority?: Priority;
  /** What happens to occurrences missed while nothing could fire (default fire_once). */
  missedRunPolicy?: MissedRunPolicy;
  /** fire_all: the most missed occurrences fired after an outage (default 100). */
  maxCatchUp?: number;
  /** Attempts before a run is dead-lettered (default 5). */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** The attempt's signal aborts after this long and the attempt is retried (default 5 minutes). */
  timeoutMs?: number;
  /** Runs of this job at once in one process. */
  concurrency?: number;
  /** A platform job (spans tenants): only the platform may trigger or retry it (docs/jobs.md). */
  platform?: boolean;
  /**
   * Another job for the occurrences to run (handled by this service or another
   * one): the method then only declares the schedule and is never called. The
   * platform declares its per-tenant digests and generation this way in the
   * scheduler, whose handlers live in notifier and recurrence.
   */
  job?: string;
  /** The schedule's full name (default `<service>.<decorator name or Class.method>`). */
  schedule?: string;
  /** Shown in the dashboard and the API. */
  description?: string;
}

export const METRONOME_JOB_METADATA = Symbol('metronome:scheduled-job');

/**
 * Metronome's options for a method that also carries @nestjs/schedule's
 * `@Cron`, `@Interval` or `@Timeout`; only read under MetronomeScheduleModule
 * (plain ScheduleModule ignores it).
 *
 *   @Cron('0 8 * * 1', { name: 'weekly-digest' })
 *   @MetronomeJob({ perTenant: true, priority: 'low', maxAttempts: 3 })
 *   async weeklyDigest(ctx: ScheduledJobContext) { … }
 */
export function MetronomeJob(options: MetronomeJobOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(METRONOME_JOB_METADATA, options, descriptor.value as object);
    return descriptor;
  };
}

export function metronomeJobOptions(method: object): MetronomeJobOptions | undefined {
  return Reflect.getMetadata(METRONOME_JOB_METADATA, method) as MetronomeJobOptions | undefined;
}
