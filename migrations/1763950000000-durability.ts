import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable steps, flows (parent/children runs), SLAs and per-job retention
 * (docs/durability.md).
 */
export class Durability1763950000000 implements MigrationInterface {
  name = 'Durability1763950000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per completed step of a run: a retried run skips these.
    await q.query(`
      CREATE TABLE job_steps (
        run_id text NOT NULL,
        name text NOT NULL,
        seq int NOT NULL,
        job text NOT NULL,
        company_id text,
        result jsonb,
        attempt int NOT NULL,
        duration_ms int NOT NULL DEFAULT 0,
        completed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, name)
      )`);
    await q.query(`CREATE INDEX job_steps_job_completed ON job_steps (job, completed_at)`);
    // Flows: a parent waits (outbox row held back) until its children settle.
    await q.query(`ALTER TABLE job_runs ADD COLUMN flow_policy text`);
    await q.query(`CREATE INDEX job_runs_parent ON job_runs (parent_run_id) WHERE parent_run_id IS NOT NULL`);
    // SLAs: when a breach was seen, per kind.
    await q.query(`ALTER TABLE job_runs ADD COLUMN sla_duration_breached_at timestamptz`);
    await q.query(`ALTER TABLE job_runs ADD COLUMN sla_lateness_breached_at timestamptz`);
    // Per-job retention, written by each worker from its handlers' options at start.
    await q.query(`
      CREATE TABLE job_retention (
        job text PRIMARY KEY,
        runs_ms bigint,
        steps_ms bigint,
        dead_letters_ms bigint,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX job_runs_job_finished ON job_runs (job, finished_at) WHERE finished_at IS NOT NULL`);
    await q.query(`CREATE INDEX dead_letters_type_created ON dead_letters (message_type, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS dead_letters_type_created');
    await q.query('DROP INDEX IF EXISTS job_runs_job_finished');
    await q.query('DROP TABLE job_retention');
    await q.query('ALTER TABLE job_runs DROP COLUMN sla_lateness_breached_at, DROP COLUMN sla_duration_breached_at, DROP COLUMN flow_policy');
    await q.query('DROP INDEX IF EXISTS job_runs_parent');
    await q.query('DROP TABLE job_steps');
  }
}
