import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Recurring task templates and their instances, calendar events and their reminders, the member directory. */
export class Recurrence1763920000000 implements MigrationInterface {
  name = 'Recurrence1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recurrence_settings (
        company_id text PRIMARY KEY,
        timezone text NOT NULL DEFAULT 'UTC',
        horizon_days int NOT NULL DEFAULT 30 CHECK (horizon_days BETWEEN 1 AND 366),
        cleanup_after_days int CHECK (cleanup_after_days IS NULL OR cleanup_after_days >= 1),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE recurrence_members (
        company_id text NOT NULL,
        user_id text NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        removed boolean NOT NULL DEFAULT false,
        event_order bigint NOT NULL,
        PRIMARY KEY (company_id, user_id)
      )`);
    await q.query(`
      CREATE TABLE task_templates (
        id uuid PRIMARY KEY,
        company_id text NOT NULL,
        title text NOT NULL,
        rule text NOT NULL,
        timezone text NOT NULL,
        start_local text NOT NULL,
        exdates text[] NOT NULL DEFAULT '{}',
        due_offset_minutes int NOT NULL DEFAULT 0,
        assignment text NOT NULL DEFAULT 'none' CHECK (assignment IN ('none','fixed','round_robin')),
        assignee_user_id text,
        assignee_role text,
        round_robin_cursor bigint NOT NULL DEFAULT 0,
        revision int NOT NULL DEFAULT 1,
        deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX task_templates_company ON task_templates (company_id) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE task_instances (
        id uuid PRIMARY KEY,
        company_id text NOT NULL,
        template_id uuid NOT NULL REFERENCES task_templates(id),
        template_revision int NOT NULL,
        occurrence_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        title text NOT NULL,
        assignee_user_id text,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','started','done','cancelled')),
        published_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT task_instances_occurrence UNIQUE (template_id, occurrence_at)
      )`);
    await q.query(`CREATE INDEX task_instances_company_occurrence ON task_instances (company_id, occurrence_at)`);
    await q.query(`
      CREATE TABLE calendar_events (
        id uuid PRIMARY KEY,
        company_id text NOT NULL,
        title text NOT NULL,
        rule text,
        timezone text NOT NULL,
        start_local text NOT NULL,
        duration_minutes int NOT NULL DEFAULT 60,
        attendee_user_ids text[] NOT NULL DEFAULT '{}',
        reminder_offsets_minutes int[] NOT NULL DEFAULT '{}',
        revision int NOT NULL DEFAULT 1,
        deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX calendar_events_company ON calendar_events (company_id) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE calendar_reminders (
        id text PRIMARY KEY,
        company_id text NOT NULL,
        event_id uuid NOT NULL REFERENCES calendar_events(id),
        event_revision int NOT NULL,
        occurrence_at timestamptz NOT NULL,
        offset_minutes int NOT NULL,
        due_at timestamptz NOT NULL,
        state text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned','sent','cancelled')),
        sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX calendar_reminders_event ON calendar_reminders (event_id) WHERE state = 'planned'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['calendar_reminders', 'calendar_events', 'task_instances', 'task_templates', 'recurrence_members', 'recurrence_settings']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
