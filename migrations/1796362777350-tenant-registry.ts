import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tenants table becomes the tenant registry (POST/GET/PATCH
 * /api/v1/tenants): name, locale, paused, a version every change bumps and the
 * last version announced as tenant.upserted (existing tenants are announced at
 * the next start), and the documents scan hour the scheduler was told. The
 * shared per_tenant expiry-scan schedule gives way to one schedule per tenant
 * at its scan hour (created by the registry at start).
 */
export class TenantRegistry1796362777350 implements MigrationInterface {
  name = 'TenantRegistry1796362777350';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants
        ADD COLUMN name text,
        ADD COLUMN locale text NOT NULL DEFAULT 'en',
        ADD COLUMN paused boolean NOT NULL DEFAULT false,
        ADD COLUMN version bigint NOT NULL DEFAULT 1,
        ADD COLUMN published_version bigint NOT NULL DEFAULT 0,
        ADD COLUMN scan_hour int NOT NULL DEFAULT 8 CHECK (scan_hour BETWEEN 0 AND 23),
        ADD COLUMN scan_hour_version bigint NOT NULL DEFAULT 0`);
    await q.query(`DROP INDEX tenants_active_timezone`);
    await q.query(`CREATE INDEX tenants_active_timezone ON tenants (timezone) WHERE active AND NOT paused`);
    await q.query(`CREATE INDEX tenants_unpublished ON tenants (company_id) WHERE published_version < version`);
    await q.query(`DELETE FROM schedules WHERE name = 'platform.documents-expiry-scan' AND source = 'code'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM schedules WHERE name LIKE 'platform.documents-expiry-scan.%' AND source = 'code'`);
    await q.query(`DROP INDEX tenants_unpublished`);
    await q.query(`DROP INDEX tenants_active_timezone`);
    await q.query(`CREATE INDEX tenants_active_timezone ON tenants (timezone) WHERE active`);
    await q.query(`
      ALTER TABLE tenants DROP COLUMN name, DROP COLUMN locale, DROP COLUMN paused, DROP COLUMN version,
        DROP COLUMN published_version, DROP COLUMN scan_hour, DROP COLUMN scan_hour_version`);
  }
}
