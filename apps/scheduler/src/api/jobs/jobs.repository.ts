import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface JobRow {
  job: string;
  schedules: number;
  nextRunAt: Date | null;
  lastRun: { id: string; state: string; createdAt: Date; finishedAt: Date | null; companyId: string | null } | null;
  /** Over the window: finished attempts by outcome (the job_stats view) and planned runs by state (job_runs). */
  counts: Record<string, number>;
}

/** The schedules a tenant-scoped caller sees: its own tenant schedules and those fanned out per tenant. */
export const SCHEDULE_SCOPE_SQL = (param: string) => `(${param}::text IS NULL OR scope = 'per_tenant' OR (scope = 'tenant' AND company_id = ${param}))`;

/**
 * A "job" is a job name a service declared (the job catalog, passed in as
 * `declared`), or one seen in schedules, planned runs or the run-history
 * rollup over the window. Finished counts come from the job_stats view (rows per
 * minute, job, queue and tenant, summed), planned ones from job_runs; the last run
 * is the latest attempt in the window's last active minute (found through the
 * rollup, so no walk of job_attempts), else the latest planned row.
 */
@Injectable()
export class JobsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Jobs by name; `page` (names after `after`, at most `limit`) bounds the work of one request. */
  async list(scope: string | null, since: Date, only?: string, page: { after?: string; limit: number } = { limit: 1 }, declared: string[] = []): Promise<JobRow[]> {
    const rows: {
      job: string; schedules: string; next_run_at: Date | null; planned_id: string | null; planned_state: string | null; planned_created_at: Date | null;
      planned_finished_at: Date | null; planned_company_id: string | null; attempt_run_id: string | null; attempt_outcome: string | null;
      attempt_finished_at: Date | null; attempt_company_id: string | null; finished: Record<string, number> | null; planned: Record<string, number> | null;
    }[] = await this.dataSource.query(
      `WITH stats AS (
         -- One pass over the window's rollup for every job (its key index leads with the minute).
         SELECT job, sum(succeeded) AS succeeded, sum(failed) AS failed, sum(retried) AS retried, sum(dead) AS dead, sum(cancelled) AS cancelled,
                max(minute) AS last_minute
           FROM job_stats WHERE minute >= date_trunc('minute', $2::timestamptz) AND ($1::text IS NULL OR company_id = $1) AND ($3::text IS NULL OR job = $3)
          GROUP BY job
       ), names AS (
         SELECT unnest($6::text[]) AS job
         UNION
         SELECT job FROM schedules WHERE ${SCHEDULE_SCOPE_SQL('$1')}
         UNION
         SELECT DISTINCT job FROM job_runs WHERE created_at >= $2 AND ($1::text IS NULL OR company_id = $1)
         UNION
         SELECT job FROM stats
       ), wanted AS (
         SELECT job FROM names WHERE ($3::text IS NULL OR job = $3) AND ($4::text IS NULL OR job > $4) ORDER BY job LIMIT $5
       )
       SELECT w.job,
         (SELECT count(*) FROM schedules s WHERE s.job = w.job AND ${SCHEDULE_SCOPE_SQL('$1')}) AS schedules,
         (SELECT min(next_fire_at) FROM schedules s WHERE s.job = w.job AND s.enabled AND NOT s.paused AND ${SCHEDULE_SCOPE_SQL('$1')}) AS next_run_at,
         p.id AS planned_id, p.state AS planned_state, p.created_at AS planned_created_at, p.finished_at AS planned_finished_at, p.company_id AS planned_company_id,
         a.run_id AS attempt_run_id, a.outcome AS attempt_outcome, a.finished_at AS attempt_finished_at, a.company_id AS attempt_company_id,
         CASE WHEN st.job IS NULL THEN NULL ELSE jsonb_build_object('succeeded', st.succeeded, 'failed', st.failed, 'retrying', st.retried, 'dead', st.dead, 'cancelled', st.cancelled) END AS finished,
         (SELECT jsonb_object_agg(state, n) FROM (
            SELECT state, count(*)::int AS n FROM job_runs r
             WHERE r.job = w.job AND r.state IN ('scheduled', 'queued') AND (r.state = 'scheduled' OR r.created_at >= $2) AND ($1::text IS NULL OR r.company_id = $1)
             GROUP BY state
          ) c) AS planned
       FROM wanted w
       LEFT JOIN stats st ON st.job = w.job
       LEFT JOIN LATERAL (
         SELECT id, state, created_at, finished_at, company_id FROM job_runs r
         WHERE r.job = w.job AND ($1::text IS NULL OR r.company_id = $1) ORDER BY created_at DESC LIMIT 1
       ) p ON true
       LEFT JOIN LATERAL (
         -- The latest attempt, looked up in the last minute the rollup saw the job (one partition, the finished_at index).
         SELECT run_id, outcome, finished_at, company_id FROM job_attempts ja
         WHERE st.last_minute IS NOT NULL AND ja.job = w.job AND ja.finished_at >= st.last_minute AND ja.finished_at < st.last_minute + interval '1 minute'
           AND ($1::text IS NULL OR ja.company_id = $1)
         ORDER BY ja.finished_at DESC LIMIT 1
       ) a ON true
       ORDER BY w.job`,
      [scope, since, only ?? null, page.after ?? null, page.limit, declared],
    );
    return rows.map((r) => {
      const planned = r.planned_id ? { id: r.planned_id, state: r.planned_state!, createdAt: r.planned_created_at!, finishedAt: r.planned_finished_at, companyId: r.planned_company_id } : null;
      const attempt = r.attempt_run_id
        ? { id: r.attempt_run_id, state: r.attempt_outcome!, createdAt: r.attempt_finished_at!, finishedAt: r.attempt_outcome === 'retrying' ? null : r.attempt_finished_at, companyId: r.attempt_company_id }
        : null;
      // The newer of the two; a planned run that has already run shows as its attempt (same id, newer time).
      const lastRun = attempt && (!planned || attempt.createdAt >= planned.createdAt || attempt.id === planned.id) ? attempt : planned;
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries({ ...(r.finished ?? {}), ...(r.planned ?? {}) })) if (Number(v) > 0) counts[k] = Number(v);
      return { job: r.job, schedules: Number(r.schedules), nextRunAt: r.next_run_at, lastRun, counts };
    });
  }
}
