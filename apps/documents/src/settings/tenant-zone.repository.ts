import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The only file touching document_tenants: each tenant's timezone from the tenant registry. */
@Injectable()
export class TenantZoneRepository {
  constructor(private readonly dataSource: DataSource) {}

  async timezone(companyId: string): Promise<string | null> {
    const rows: { timezone: string }[] = await this.dataSource.query('SELECT timezone FROM document_tenants WHERE company_id = $1', [companyId]);
    return rows[0]?.timezone ?? null;
  }

  /** Applies an announcement unless this or a newer version was applied; `created` when the tenant was new here. */
  async apply(companyId: string, timezone: string, version: number): Promise<{ applied: boolean; created: boolean }> {
    const rows: { created: boolean }[] = await this.dataSource.query(
      `INSERT INTO document_tenants (company_id, timezone, version, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (company_id) DO UPDATE SET timezone = EXCLUDED.timezone, version = EXCLUDED.version, updated_at = now()
       WHERE document_tenants.version < EXCLUDED.version
       RETURNING (xmax = 0) AS created`,
      [companyId, timezone, version],
    );
    return { applied: rows.length === 1, created: rows[0]?.created ?? false };
  }
}
