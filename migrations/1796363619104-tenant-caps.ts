import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the per-tenant caps counted on every create (SCHEDULES_MAX_PER_TENANT,
 * RECURRENCE_MAX_REMINDERS_PER_TENANT): a tenant's schedules and its planned
 * reminders, without scanning every tenant's rows.
 */
export class TenantCaps1796363619104 implements MigrationInterface {
  name = 'TenantCaps1796363619104';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS schedules_company ON schedules (company_id) WHERE company_id IS NOT NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS calendar_reminders_company_planned ON calendar_reminders (company_id) WHERE state = 'planned'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS calendar_reminders_company_planned`);
    await q.query(`DROP INDEX IF EXISTS schedules_company`);
  }
}
