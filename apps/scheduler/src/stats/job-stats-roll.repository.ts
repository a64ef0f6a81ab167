import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** count(*) of each of the 22 duration buckets, in order. */
const HISTOGRAM_BUCKET_COUNTS = Array.from({ length: 22 }, (_, i) => `count(*) FILTER (WHERE bucket = ${i})::int`).join(', ');

/** History batches rolled up per statement: bounds one transaction's rows (a batch holds up to 1,000 attempts). */
export const ROLL_BATCHES_PER_STATEMENT = 200;

/**
 * Turns marked history batches (job_history_batches) into job_stats_minute
 * rows: one statement deletes up to ROLL_BATCHES_PER_STATEMENT markers, reads
 * their attempts (through job_attempts' batch_id index, only in the partitions
 * of the marker's finished_at range), and appends one rollup row per minute,
 * job, queue and tenant. Markers and rollup rows change in one
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
         SELECT date_trunc('minute', a.finished_at) AS minute, a.job, a.queue, coalesce(a.company_id, '') AS company_id, a.outcome, a.duration_ms,
                CASE WHEN a.outcome = 'lost' THEN -1 ELSE job_duration_bucket(a.duration_ms) END AS bucket
           FROM b JOIN job_attempts a ON a.batch_id = b.id AND a.finished_at BETWEEN b.first_finished AND b.last_finished
       ), rolled AS (
         INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist)
         SELECT minute, job, queue, company_id,
                count(*) FILTER (WHERE outcome = 'succeeded')::int, count(*) FILTER (WHERE outcome = 'failed')::int,
                count(*) FILTER (WHERE outcome IN ('retrying', 'lost'))::int, count(*) FILTER (WHERE outcome = 'dead')::int,
                count(*) FILTER (WHERE outcome = 'cancelled')::int,
                coalesce(sum(duration_ms) FILTER (WHERE outcome <> 'lost'), 0)::bigint,
                -- One pass: a filtered count per histogram bucket (a lost attempt is in none).
                ARRAY[${HISTOGRAM_BUCKET_COUNTS}]
           FROM a GROUP BY 1, 2, 3, 4
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
