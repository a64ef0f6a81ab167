import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** History batches rolled up per statement: bounds one transaction's rows (a batch holds up to 1,000 attempts). */
export const ROLL_BATCHES_PER_STATEMENT = 200;

/**
 * Turns marked history batches (job_history_batches) into job_stats_minute
 * rows: one statement deletes up to ROLL_BATCHES_PER_STATEMENT markers, reads
 * their attempts (by batch_id inside the marker's finished_at range, so
 * job_attempts' finished_at index finds them), and appends one rollup row per
 * minute, job, queue and tenant. Markers and rollup rows change in one
 * transaction, so the job_stats view never counts a batch twice or not at
 * all; SKIP LOCKED lets several schedulers roll at once, each its own batches.
 */
@Injectable()
export class JobStatsRollRepository {
  constructor(private readonly dataSource: DataSource) {}

  async roll(): Promise<{ batches: number; attempts: number; rows: number }> {
    const [row]: { batches: string; attempts: string; rows: string }[] = await this.dataSource.query(
      `WITH b AS (
         DELETE FROM job_history_batches WHERE id IN (SELECT id FROM job_history_batches ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, first_finished, last_finished
       ), a AS (
         SELECT date_trunc('minute', a.finished_at) AS minute, a.job, a.queue, coalesce(a.company_id, '') AS company_id, a.outcome, a.duration_ms
           FROM b JOIN job_attempts a ON a.batch_id = b.id AND a.finished_at BETWEEN b.first_finished AND b.last_finished
       ), sums AS (
         SELECT minute, job, queue, company_id,
                count(*) FILTER (WHERE outcome = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE outcome = 'failed')::int AS failed,
                count(*) FILTER (WHERE outcome IN ('retrying', 'lost'))::int AS retried, count(*) FILTER (WHERE outcome = 'dead')::int AS dead,
                count(*) FILTER (WHERE outcome = 'cancelled')::int AS cancelled,
                coalesce(sum(duration_ms) FILTER (WHERE outcome <> 'lost'), 0)::bigint AS duration_ms_sum
           FROM a GROUP BY 1, 2, 3, 4
       ), buckets AS (
         SELECT minute, job, queue, company_id, job_duration_bucket(duration_ms) AS i, count(*)::int AS n
           FROM a WHERE outcome <> 'lost' GROUP BY 1, 2, 3, 4, 5
       ), hists AS (
         SELECT s.minute, s.job, s.queue, s.company_id, array_agg(coalesce(k.n, 0) ORDER BY i.i) AS duration_hist
           FROM sums s CROSS JOIN generate_series(0, 21) AS i(i)
           LEFT JOIN buckets k ON (k.minute, k.job, k.queue, k.company_id, k.i) = (s.minute, s.job, s.queue, s.company_id, i.i)
          GROUP BY 1, 2, 3, 4
       ), rolled AS (
         INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist)
         SELECT s.minute, s.job, s.queue, s.company_id, s.succeeded, s.failed, s.retried, s.dead, s.cancelled, s.duration_ms_sum, h.duration_hist
           FROM sums s JOIN hists h USING (minute, job, queue, company_id)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM b) AS batches, (SELECT count(*) FROM a) AS attempts, (SELECT count(*) FROM rolled) AS rows`,
      [ROLL_BATCHES_PER_STATEMENT],
    );
    return { batches: Number(row.batches), attempts: Number(row.attempts), rows: Number(row.rows) };
  }

  /** Batches not rolled up yet, and the oldest one's age in seconds (0 when none). */
  async pending(): Promise<{ batches: number; oldestSeconds: number }> {
    const [row]: { batches: string; oldest: number | null }[] = await this.dataSource.query(
      `SELECT count(*) AS batches, extract(epoch FROM now() - min(last_finished))::float8 AS oldest FROM job_history_batches`,
    );
    return { batches: Number(row.batches), oldestSeconds: Math.max(0, row.oldest ?? 0) };
  }
}
