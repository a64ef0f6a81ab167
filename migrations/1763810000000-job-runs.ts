import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Run history and the transactional outbox (ARCHITECTURE.md invariants 1 and 2):
 * a run is planned here, in the same transaction as whatever decided it, and the
 * relay publishes outbox rows with Nats-Msg-Id = run id.
 */
export class JobRuns1763810000000 implements MigrationInterface {
  name = 'JobRuns1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_runs (
        id text PRIMARY KEY,
        job text NOT NULL,
        queue text NOT NULL,
        company_id text,
        schedule_id text,
        occurrence_at timestamptz,
        priority text NOT NULL DEFAULT 'normal',
        state text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL DEFAULT 5,
        payload jsonb NOT NULL DEFAULT '{}',
        idempotency_key text,
        scheduled_for timestamptz NOT NULL,
        published_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        progress int,
        progress_message text,
        error text,
        result jsonb,
        retry_of text,
        parent_run_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT job_runs_state_check CHECK (state IN ('scheduled','queued','running','succeeded','failed','retrying','dead','cancelled')),
        CONSTRAINT job_runs_progress_check CHECK (progress IS NULL OR progress BETWEEN 0 AND 100)
      )`);
    // One run per occurrence of a schedule and tenant, whatever happens to the scheduler.
    await q.query(`CREATE UNIQUE INDEX job_runs_occurrence ON job_runs (schedule_id, occurrence_at, (coalesce(company_id, ''))) WHERE schedule_id IS NOT NULL`);
    await q.query(`CREATE INDEX job_runs_job_created ON job_runs (job, created_at DESC)`);
    await q.query(`CREATE INDEX job_runs_company_created ON job_runs (company_id, created_at DESC)`);
    await q.query(`CREATE INDEX job_runs_state_created ON job_runs (state, created_at)`);
    await q.query(`CREATE INDEX job_runs_idempotency ON job_runs (job, idempotency_key, created_at DESC) WHERE idempotency_key IS NOT NULL`);
    await q.query(`
      CREATE TABLE outbox (
        seq bigserial PRIMARY KEY,
        run_id text NOT NULL UNIQUE,
        subject text NOT NULL,
        body jsonb NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE job_runs');
  }
}
