import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Schedules, tenants and what the scheduler needs on top of job_runs/outbox
 * (ARCHITECTURE.md invariants 2 and 6):
 * - `schedules.next_fire_at` is what the claim loop selects FOR UPDATE SKIP
 *   LOCKED and advances in the same transaction as the outbox rows it writes;
 * - `zone_cursors` holds one next fire time per tenant timezone for per-tenant
 *   schedules read "in the tenant's timezone" (next_fire_at is their minimum);
 * - `outbox.not_before` lets a delayed enqueue sit in the outbox until due;
 * - `job_runs.options` carries the schedule's job options (backoff, timeout,
 *   concurrency) into each run.
 */
export class Schedules1763820000000 implements MigrationInterface {
  name = 'Schedules1763820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        company_id text PRIMARY KEY,
        timezone text NOT NULL DEFAULT 'UTC',
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tenants_active_timezone ON tenants (timezone) WHERE active`);
    await q.query(`
      CREATE TABLE schedules (
        id text PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL,
        job text NOT NULL,
        cron text,
        interval_ms bigint,
        run_at timestamptz,
        event_type text,
        timezone text NOT NULL DEFAULT 'UTC',
        scope text NOT NULL DEFAULT 'global',
        company_id text,
        payload jsonb NOT NULL DEFAULT '{}',
        priority text NOT NULL DEFAULT 'normal',
        max_attempts int NOT NULL DEFAULT 5,
        backoff jsonb,
        timeout_ms int,
        concurrency int,
        missed_policy text NOT NULL DEFAULT 'fire_once',
        max_catch_up int NOT NULL DEFAULT 100,
        starts_at timestamptz,
        ends_at timestamptz,
        max_runs int,
        run_count int NOT NULL DEFAULT 0,
        enabled boolean NOT NULL DEFAULT true,
        paused boolean NOT NULL DEFAULT false,
        next_fire_at timestamptz,
        zone_cursors jsonb,
        last_fire_at timestamptz,
        source text NOT NULL DEFAULT 'api',
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT schedules_name_unique UNIQUE (name),
        CONSTRAINT schedules_kind_check CHECK (kind IN ('cron','interval','once','event','manual')),
        CONSTRAINT schedules_scope_check CHECK (scope IN ('global','per_tenant','tenant')),
        CONSTRAINT schedules_tenant_check CHECK ((scope = 'tenant') = (company_id IS NOT NULL)),
        CONSTRAINT schedules_priority_check CHECK (priority IN ('critical','high','normal','low')),
        CONSTRAINT schedules_missed_check CHECK (missed_policy IN ('skip','fire_once','fire_all')),
        CONSTRAINT schedules_interval_check CHECK (interval_ms IS NULL OR interval_ms >= 1000),
        CONSTRAINT schedules_cron_check CHECK ((kind = 'cron') = (cron IS NOT NULL)),
        CONSTRAINT schedules_event_check CHECK ((kind = 'event') = (event_type IS NOT NULL)),
        CONSTRAINT schedules_source_check CHECK (source IN ('code','api'))
      )`);
    // The claim loop's query: due, enabled, unpaused schedules in due order.
    await q.query(`CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled AND NOT paused AND next_fire_at IS NOT NULL`);
    await q.query(`CREATE INDEX schedules_event_type ON schedules (event_type) WHERE kind = 'event'`);
    await q.query(`ALTER TABLE outbox ADD COLUMN not_before timestamptz`);
    await q.query(`ALTER TABLE job_runs ADD COLUMN options jsonb`);
    await q.query(`CREATE INDEX job_runs_schedule_created ON job_runs (schedule_id, created_at DESC) WHERE schedule_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX job_runs_schedule_created');
    await q.query('ALTER TABLE job_runs DROP COLUMN options');
    await q.query('ALTER TABLE outbox DROP COLUMN not_before');
    await q.query('DROP TABLE schedules');
    await q.query('DROP TABLE tenants');
  }
}
