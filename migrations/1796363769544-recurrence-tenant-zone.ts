import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recurrence takes each tenant's timezone from the tenant registry
 * (tenant.upserted) into recurrence_tenants instead of recurrence_settings:
 * what tenants had set is kept (version 0, replaced by any registry
 * announcement) and the registry's zone wins where it knows the tenant.
 * Templates and calendar events created without a timezone of their own
 * follow the tenant's from now on (zone_from_tenant); existing rows whose zone
 * equals their tenant's setting are taken to have defaulted to it.
 */
export class RecurrenceTenantZone1796363769544 implements MigrationInterface {
  name = 'RecurrenceTenantZone1796363769544';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recurrence_tenants (
        company_id text PRIMARY KEY,
        timezone text NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO recurrence_tenants (company_id, timezone, version) SELECT company_id, timezone, 0 FROM recurrence_settings`);
    await q.query(`
      INSERT INTO recurrence_tenants (company_id, timezone, version) SELECT company_id, timezone, version FROM tenants
      ON CONFLICT (company_id) DO UPDATE SET timezone = EXCLUDED.timezone, version = EXCLUDED.version`);
    for (const table of ['task_templates', 'calendar_events']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN zone_from_tenant boolean NOT NULL DEFAULT false`);
      await q.query(`
        UPDATE ${table} x SET zone_from_tenant = true
         WHERE x.timezone = coalesce((SELECT s.timezone FROM recurrence_settings s WHERE s.company_id = x.company_id), 'UTC')`);
    }
    await q.query(`ALTER TABLE recurrence_settings DROP COLUMN timezone`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE recurrence_settings ADD COLUMN timezone text NOT NULL DEFAULT 'UTC'`);
    await q.query(`UPDATE recurrence_settings s SET timezone = z.timezone FROM recurrence_tenants z WHERE z.company_id = s.company_id`);
    for (const table of ['task_templates', 'calendar_events']) await q.query(`ALTER TABLE ${table} DROP COLUMN zone_from_tenant`);
    await q.query(`DROP TABLE recurrence_tenants`);
  }
}
