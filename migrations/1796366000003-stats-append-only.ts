import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * job_stats_minute becomes append-only: each history batch inserts its own
 * rollup rows instead of upserting one row per (minute, job, queue, tenant),
 * and the scheduler's JobStatsCompactor later merges a minute's rows into one.
 * Readers already sum over the key. The upsert locked rows that every
 * concurrent batch of the same minute and tenant also wanted, and merged the
 * duration histogram with a subquery per row.
 */
export class StatsAppendOnly1796366000003 implements MigrationInterface {
  name = 'StatsAppendOnly1796366000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE job_stats_minute DROP CONSTRAINT job_stats_minute_pkey`);
    await q.query(`CREATE INDEX job_stats_minute_key ON job_stats_minute (minute, job, queue, company_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Merge every key's rows into one so the primary key can come back.
    await q.query(`
      CREATE TEMP TABLE merged ON COMMIT DROP AS
      SELECT minute, job, queue, company_id, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed, sum(retried)::int AS retried,
             sum(dead)::int AS dead, sum(cancelled)::int AS cancelled, sum(duration_ms_sum)::bigint AS duration_ms_sum,
             (SELECT array_agg(n ORDER BY i) FROM (SELECT h.i, sum(h.n)::int AS n FROM job_stats_minute s2, unnest(s2.duration_hist) WITH ORDINALITY AS h(n, i)
                WHERE (s2.minute, s2.job, s2.queue, s2.company_id) = (s.minute, s.job, s.queue, s.company_id) GROUP BY h.i) b) AS duration_hist
        FROM job_stats_minute s GROUP BY minute, job, queue, company_id`);
    await q.query(`TRUNCATE job_stats_minute`);
    await q.query(`INSERT INTO job_stats_minute SELECT * FROM merged`);
    await q.query(`DROP INDEX job_stats_minute_key`);
    await q.query(`ALTER TABLE job_stats_minute ADD PRIMARY KEY (minute, job, queue, company_id)`);
  }
}
