import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The only file writing recurrence_tenants (SettingsRepository reads it with the settings): each tenant's timezone from the tenant registry. */
@Injectable()
export class TenantZoneRepository {
  constructor(private readonly dataSource: DataSource) {}

  async timezone(companyId: string): Promise<string | null> {
    const rows: { timezone: string }[] = await this.dataSource.query('SELECT timezone FROM recurrence_tenants WHERE company_id = $1', [companyId]);
    return rows[0]?.timezone ?? null;
  }

  /** Applies an announcement unless this or a newer version was applied already; true when applied. */
  async apply(companyId: string, timezone: string, version: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO recurrence_tenants (company_id, timezone, version, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (company_id) DO UPDATE SET timezone = EXCLUDED.timezone, version = EXCLUDED.version, updated_at = now()
       WHERE recurrence_tenants.version < EXCLUDED.version
       RETURNING company_id`,
      [companyId, timezone, version],
    );
    return rows.length === 1;
  }
}
