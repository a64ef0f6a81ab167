import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * job_stats_minute is rolled up from job_attempts by the scheduler instead of
 * being appended by every history batch. A batch now writes one row to
 * job_history_batches (its id is each attempt's batch_id) in the transaction
 * that writes its attempts; JobStatsRoller later turns a set of batches into
 * rollup rows and deletes their markers in one transaction. Readers use the
 * job_stats view: the rolled rows plus the attempts of batches not rolled yet,
 * one row each, so a count is there as soon as its attempt is committed and
 * is never counted twice (a reader sees a batch's marker or its rollup rows,
 * never both).
 *
 * Attempts written before this migration, and by a worker still running the
 * previous version during a rolling deploy, have no batch_id: their writer
 * appended their rollup itself, and the roller never sees them.
 */
export class StatsRolledFromHistory1796366000004 implements MigrationInterface {
  name = 'StatsRolledFromHistory1796366000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_history_batches (
        id bigserial PRIMARY KEY,
        first_finished timestamptz NOT NULL,
        last_finished timestamptz NOT NULL,
        attempts int NOT NULL
      )`);
    await q.query(`ALTER TABLE job_attempts ADD COLUMN batch_id bigint`);
    // The roller and the job_stats view find a batch's attempts by it. Without it Postgres joined the markers
    // to job_attempts by a sequential scan of the whole table (1.5 M rows: 0.5 s a roll), or with a range
    // scan estimated so high that JIT compiled each roll for 2 s. A batch's rows share one key, appended.
    await q.query(`CREATE INDEX job_attempts_batch ON job_attempts (batch_id)`);
    // The duration histogram's bucket (duration-histogram.ts) of a stored duration: 0 below 1 ms, then one per power of two (the bit length).
    await q.query(`
      CREATE FUNCTION job_duration_bucket(ms int) RETURNS int LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
      $$ SELECT CASE WHEN ms < 1 THEN 0 ELSE least(length(ltrim(ms::bit(32)::text, '0')), 21) END $$`);
    // One attempt as a rollup row: its outcome counted once, its duration in the sum and in a one-hot histogram (a lost attempt has neither).
    await q.query(`
      CREATE VIEW job_attempt_stats AS
      SELECT a.batch_id, a.finished_at, date_trunc('minute', a.finished_at) AS minute, a.job, a.queue, coalesce(a.company_id, '') AS company_id,
             (a.outcome = 'succeeded')::int AS succeeded, (a.outcome = 'failed')::int AS failed, (a.outcome IN ('retrying', 'lost'))::int AS retried,
             (a.outcome = 'dead')::int AS dead, (a.outcome = 'cancelled')::int AS cancelled,
             CASE WHEN a.outcome = 'lost' THEN 0 ELSE a.duration_ms END::bigint AS duration_ms_sum,
             CASE WHEN a.outcome = 'lost' THEN array_fill(0, ARRAY[22])
                  ELSE array_fill(0, ARRAY[job_duration_bucket(a.duration_ms)]) || 1 || array_fill(0, ARRAY[21 - job_duration_bucket(a.duration_ms)]) END AS duration_hist
        FROM job_attempts a`);
    await q.query(`
      CREATE VIEW job_stats AS
      SELECT minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist FROM job_stats_minute
      UNION ALL
      SELECT s.minute, s.job, s.queue, s.company_id, s.succeeded, s.failed, s.retried, s.dead, s.cancelled, s.duration_ms_sum, s.duration_hist
        FROM job_history_batches b
        JOIN job_attempt_stats s ON s.batch_id = b.id AND s.finished_at BETWEEN b.first_finished AND b.last_finished`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The batches not rolled yet are rolled before their markers go.
    await q.query(`
      INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist)
      SELECT s.minute, s.job, s.queue, s.company_id, s.succeeded, s.failed, s.retried, s.dead, s.cancelled, s.duration_ms_sum, s.duration_hist
        FROM job_history_batches b JOIN job_attempt_stats s ON s.batch_id = b.id AND s.finished_at BETWEEN b.first_finished AND b.last_finished`);
    await q.query('DROP VIEW job_stats');
    await q.query('DROP VIEW job_attempt_stats');
    await q.query('DROP FUNCTION job_duration_bucket(int)');
    await q.query('DROP INDEX job_attempts_batch');
    await q.query('ALTER TABLE job_attempts DROP COLUMN batch_id');
    await q.query('DROP TABLE job_history_batches');
  }
}
