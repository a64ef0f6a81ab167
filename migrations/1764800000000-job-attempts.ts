import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Run history, JetStream-first (ARCHITECTURE.md invariant 1): one append-only
 * row per finished attempt, written in large batches by the worker's history
 * writer before the job message is acked. No row is written when a job is
 * enqueued or starts; live state (waiting, running) comes from JetStream and
 * the workers' heartbeats. job_runs keeps the *planned* runs (schedule
 * occurrences, delayed and keyed enqueues, flows, enqueues inside a caller's
 * transaction).
 *
 * Partitioned first by whether the attempt failed (failed history is kept
 * longer: 180 days against 90), then by UTC day of finished_at, so retention
 * drops whole partitions instead of deleting rows. Partitions are created
 * ahead by job_attempts_ensure_partitions(); a default partition per branch
 * catches what falls outside them.
 *
 * job_stats_minute is the per-minute rollup the dashboard charts and the job
 * list read (counts by outcome and a duration histogram), upserted in the
 * same statement as the attempts it counts.
 */
export class JobAttempts1764800000000 implements MigrationInterface {
  name = 'JobAttempts1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_attempts (
        run_id text NOT NULL,
        attempt int NOT NULL,
        job text NOT NULL,
        queue text NOT NULL,
        company_id text,
        outcome text NOT NULL,
        final boolean NOT NULL,
        failed boolean NOT NULL,
        scheduled_for timestamptz,
        enqueued_at timestamptz,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        duration_ms int NOT NULL,
        error text,
        result jsonb,
        payload jsonb,
        schedule_id text,
        parent_run_id text,
        worker text,
        stream_seq bigint,
        CONSTRAINT job_attempts_outcome_check CHECK (outcome IN ('succeeded','failed','retrying','dead','cancelled','lost')),
        CONSTRAINT job_attempts_failed_check CHECK (failed = (outcome IN ('failed','retrying','dead','lost')))
      ) PARTITION BY LIST (failed)`);
    for (const [branch, value] of [['ok', 'false'], ['failed', 'true']] as const) {
      await q.query(`CREATE TABLE job_attempts_${branch} PARTITION OF job_attempts FOR VALUES IN (${value}) PARTITION BY RANGE (finished_at)`);
      await q.query(`CREATE TABLE job_attempts_${branch}_default PARTITION OF job_attempts_${branch} DEFAULT`);
    }
    // Every index costs each insert (the rows are written at the rate jobs finish). A run is found by
    // id; lists walk finished_at (a monotonic key: each insert lands on the index's last page); lists
    // by job or tenant read failures through btrees of their own on the failure branch, successes
    // through the rollup or a walk of the recent ones.
    await q.query(`CREATE INDEX job_attempts_run ON job_attempts (run_id)`);
    await q.query(`CREATE INDEX job_attempts_finished ON job_attempts (finished_at DESC)`);
    await q.query(`CREATE INDEX job_attempts_failed_job ON job_attempts_failed (job, finished_at DESC)`);
    await q.query(`CREATE INDEX job_attempts_failed_company ON job_attempts_failed (company_id, finished_at DESC)`);
    // Daily partitions of both branches from first_day for n days; safe to call from many workers at once.
    await q.query(`
      CREATE FUNCTION job_attempts_ensure_partitions(first_day date, n int) RETURNS int LANGUAGE plpgsql AS $fn$
      DECLARE
        d date;
        branch text;
        part text;
        made int := 0;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('job_attempts_partitions'));
        FOREACH branch IN ARRAY ARRAY['ok', 'failed'] LOOP
          FOR i IN 0 .. n - 1 LOOP
            d := first_day + i;
            part := format('job_attempts_%s_p%s', branch, to_char(d, 'YYYYMMDD'));
            IF to_regclass(part) IS NULL THEN
              EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                part, 'job_attempts_' || branch,
                (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
              made := made + 1;
            END IF;
          END LOOP;
        END LOOP;
        RETURN made;
      END
      $fn$`);
    await q.query(`SELECT job_attempts_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, 9)`);
    await q.query(`
      CREATE TABLE job_stats_minute (
        minute timestamptz NOT NULL,
        job text NOT NULL,
        queue text NOT NULL,
        company_id text NOT NULL DEFAULT '',
        succeeded int NOT NULL DEFAULT 0,
        failed int NOT NULL DEFAULT 0,
        retried int NOT NULL DEFAULT 0,
        dead int NOT NULL DEFAULT 0,
        cancelled int NOT NULL DEFAULT 0,
        duration_ms_sum bigint NOT NULL DEFAULT 0,
        duration_hist int[] NOT NULL,
        PRIMARY KEY (minute, job, queue, company_id)
      )`);
    await q.query(`CREATE INDEX job_stats_minute_company ON job_stats_minute (company_id, minute)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE job_stats_minute');
    await q.query('DROP FUNCTION job_attempts_ensure_partitions(date, int)');
    await q.query('DROP TABLE job_attempts');
  }
}
