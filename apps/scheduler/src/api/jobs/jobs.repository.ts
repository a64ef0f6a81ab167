import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface JobRow {
  job: string;
  schedules: number;
  nextRunAt: Date | null;
  lastRun: { id: string; state: string; createdAt: Date; finishedAt: Date | null; companyId: string | null } | null;
  counts: Record<string, number>;
}

/** The schedules a tenant-scoped caller sees: its own tenant schedules and those fanned out per tenant. */
export const SCHEDULE_SCOPE_SQL = (param: string) => `(${param}::text IS NULL OR scope = 'per_tenant' OR (scope = 'tenant' AND company_id = ${param}))`;

/**
 * A "job" is a job name seen in schedules or in recent runs. Counts cover the
 * window; last run and next run are read through the (job, created_at) index.
 */
@Injectable()
export class JobsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Jobs by name; `page` (names after `after`, at most `limit`) bounds the work of one request. */
  async list(scope: string | null, since: Date, only?: string, page: { after?: string; limit: number } = { limit: 1 }): Promise<JobRow[]> {
    const rows: {
      job: string; schedules: string; next_run_at: Date | null; last_id: string | null; last_state: string | null; last_created_at: Date | null;
      last_finished_at: Date | null; last_company_id: string | null; counts: Record<string, number> | null;
    }[] = await this.dataSource.query(
      `WITH names AS (
         SELECT job FROM schedules WHERE ${SCHEDULE_SCOPE_SQL('$1')}
         UNION
         SELECT DISTINCT job FROM job_runs WHERE created_at >= $2 AND ($1::text IS NULL OR company_id = $1)
       ), wanted AS (
         SELECT job FROM names WHERE ($3::text IS NULL OR job = $3) AND ($4::text IS NULL OR job > $4) ORDER BY job LIMIT $5
       )
       SELECT w.job,
         (SELECT count(*) FROM schedules s WHERE s.job = w.job AND ${SCHEDULE_SCOPE_SQL('$1')}) AS schedules,
         (SELECT min(next_fire_at) FROM schedules s WHERE s.job = w.job AND s.enabled AND NOT s.paused AND ${SCHEDULE_SCOPE_SQL('$1')}) AS next_run_at,
         l.id AS last_id, l.state AS last_state, l.created_at AS last_created_at, l.finished_at AS last_finished_at, l.company_id AS last_company_id,
         (SELECT jsonb_object_agg(state, n) FROM (
            SELECT state, count(*)::int AS n FROM job_runs r WHERE r.job = w.job AND r.created_at >= $2 AND ($1::text IS NULL OR r.company_id = $1) GROUP BY state
          ) c) AS counts
       FROM wanted w
       LEFT JOIN LATERAL (
         SELECT id, state, created_at, finished_at, company_id FROM job_runs r
         WHERE r.job = w.job AND ($1::text IS NULL OR r.company_id = $1) ORDER BY created_at DESC LIMIT 1
       ) l ON true
       ORDER BY w.job`,
      [scope, since, only ?? null, page.after ?? null, page.limit],
    );
    return rows.map((r) => ({
      job: r.job,
      schedules: Number(r.schedules),
      nextRunAt: r.next_run_at,
      lastRun: r.last_id ? { id: r.last_id, state: r.last_state!, createdAt: r.last_created_at!, finishedAt: r.last_finished_at, companyId: r.last_company_id } : null,
      counts: r.counts ?? {},
    }));
  }
}
