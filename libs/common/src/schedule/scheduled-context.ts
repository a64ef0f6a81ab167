import type { DataSource } from 'typeorm';
import type { JobContext } from '../jobs/job-handler.decorator.js';

/**
 * What a scheduled method receives as its first argument under
 * MetronomeScheduleModule (a plain @nestjs/schedule method ignores it): the
 * job context (runId, attempt, logger, signal, progress, steps) plus the names
 * the scheduler seed's API used and the service's database.
 */
export interface ScheduledJobContext<D = Record<string, unknown>> extends JobContext<D> {
  /** The run id (the same as runId): one per occurrence, kept across retries. */
  readonly jobId: string;
  /** The job the occurrence runs (the same as job). */
  readonly jobName: string;
  /** The run's payload (the same as payload): the schedule's, or what trigger() was given. */
  readonly data: D;
  /** The service's database (TypeORM DataSource): `ctx.db.transaction(...)`, `ctx.db.query(...)`. */
  readonly db: DataSource;
}

/** The job context with jobId, jobName, data and db added (its methods keep working: the context is the prototype). */
export function scheduledContext<D>(ctx: JobContext<D>, db: DataSource): ScheduledJobContext<D> {
  return Object.create(ctx, {
    jobId: { value: ctx.runId, enumerable: true },
    jobName: { value: ctx.job, enumerable: true },
    data: { value: ctx.payload, enumerable: true },
    db: { value: db, enumerable: false },
  }) as ScheduledJobContext<D>;
}
