import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Documents takes each tenant's timezone from the tenant registry
 * (tenant.upserted) into document_tenants, instead of its own
 * document_settings.timezone: what tenants had set is kept (version 0, so any
 * registry announcement replaces it) and the registry's zone wins where it
 * knows the tenant. Expiry settings get a version, announced to the scheduler
 * as document.settings_changed so the tenant's expiry scan runs at scan_hour;
 * the scan hours already saved are given to the registry here.
 */
export class DocumentsTenantZone1796363368658 implements MigrationInterface {
  name = 'DocumentsTenantZone1796363368658';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE document_tenants (
        company_id text PRIMARY KEY,
        timezone text NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO document_tenants (company_id, timezone, version) SELECT company_id, timezone, 0 FROM document_settings`);
    await q.query(`
      INSERT INTO document_tenants (company_id, timezone, version) SELECT company_id, timezone, version FROM tenants
      ON CONFLICT (company_id) DO UPDATE SET timezone = EXCLUDED.timezone, version = EXCLUDED.version`);
    await q.query(`ALTER TABLE document_settings DROP COLUMN timezone`);
    await q.query(`ALTER TABLE document_settings ADD COLUMN version bigint NOT NULL DEFAULT 1, ADD COLUMN announced_version bigint NOT NULL DEFAULT 1`);
    await q.query(`UPDATE tenants t SET scan_hour = d.scan_hour, scan_hour_version = 1 FROM document_settings d WHERE d.company_id = t.company_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE document_settings DROP COLUMN version, DROP COLUMN announced_version`);
    await q.query(`ALTER TABLE document_settings ADD COLUMN timezone text NOT NULL DEFAULT 'UTC'`);
    await q.query(`UPDATE document_settings d SET timezone = z.timezone FROM document_tenants z WHERE z.company_id = d.company_id`);
    await q.query(`DROP TABLE document_tenants`);
  }
}
