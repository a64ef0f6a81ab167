import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RecurrenceSettings {
  companyId: string;
  /** The tenant registry's timezone for the tenant (UTC until it is announced). */
  timezone: string;
  horizonDays: number;
  cleanupAfterDays: number | null;
}

@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async get(companyId: string): Promise<RecurrenceSettings> {
    const rows: { timezone: string | null; horizon_days: number | null; cleanup_after_days: number | null }[] = await this.dataSource.query(
      `SELECT z.timezone, s.horizon_days, s.cleanup_after_days
         FROM (SELECT $1::text AS company_id) c
         LEFT JOIN recurrence_settings s ON s.company_id = c.company_id
         LEFT JOIN recurrence_tenants z ON z.company_id = c.company_id`,
      [companyId],
    );
    const r = rows[0];
    return { companyId, timezone: r?.timezone ?? 'UTC', horizonDays: r?.horizon_days ?? 30, cleanupAfterDays: r?.cleanup_after_days ?? null };
  }

  async put(s: Omit<RecurrenceSettings, 'timezone'>): Promise<RecurrenceSettings> {
    await this.dataSource.query(
      `INSERT INTO recurrence_settings (company_id, horizon_days, cleanup_after_days) VALUES ($1,$2,$3)
       ON CONFLICT (company_id) DO UPDATE SET horizon_days=EXCLUDED.horizon_days, cleanup_after_days=EXCLUDED.cleanup_after_days, updated_at=now()`,
      [s.companyId, s.horizonDays, s.cleanupAfterDays],
    );
    return this.get(s.companyId);
  }
}
