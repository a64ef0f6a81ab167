import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Task reminders (apps/recurrence/src/tasks): a template's reminder offsets
 * (ISO 8601 durations before the due time) and one row per task instance and
 * offset, each fired by a one-off recurrence.task-reminder job planned in the
 * same transaction. `plan` counts re-plans (a reopened task), so a job of an
 * earlier plan sends nothing.
 */
export class TaskReminders1796365002810 implements MigrationInterface {
  name = 'TaskReminders1796365002810';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE task_templates ADD COLUMN reminder_offsets text[] NOT NULL DEFAULT '{}'`);
    await q.query(`
      CREATE TABLE task_reminders (
        id text PRIMARY KEY,
        company_id text NOT NULL,
        task_id uuid NOT NULL,
        offset_text text NOT NULL,
        offset_ms bigint NOT NULL,
        task_due_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        plan int NOT NULL DEFAULT 1,
        state text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned','sent','cancelled')),
        sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX task_reminders_task ON task_reminders (task_id)`);
    await q.query(`CREATE INDEX task_reminders_finished ON task_reminders (company_id, due_at) WHERE state <> 'planned'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE task_reminders`);
    await q.query(`ALTER TABLE task_templates DROP COLUMN reminder_offsets`);
  }
}
