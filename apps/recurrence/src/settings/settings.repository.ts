import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RecurrenceSettings {
  companyId: string;
  timezone: string;
  horizonDays: number;
  cleanupAfterDays: number | null;
}

@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async get(companyId: string): Promise<RecurrenceSettings> {
    const rows: { timezone: string; horizon_days: number; cleanup_after_days: number | null }[] = await this.dataSource.query(
      'SELECT timezone, horizon_days, cleanup_after_days FROM recurrence_settings WHERE company_id = $1',
      [companyId],
    );
    const r = rows[0];
    return { companyId, timezone: r?.timezone ?? 'UTC', horizonDays: r?.horizon_days ?? 30, cleanupAfterDays: r?.cleanup_after_days ?? null };
  }

  async put(s: RecurrenceSettings): Promise<RecurrenceSettings> {
    await this.dataSource.query(
      `INSERT INTO recurrence_settings (company_id, timezone, horizon_days, cleanup_after_days) VALUES ($1,$2,$3,$4)
       ON CONFLICT (company_id) DO UPDATE SET timezone=EXCLUDED.timezone, horizon_days=EXCLUDED.horizon_days,
         cleanup_after_days=EXCLUDED.cleanup_after_days, updated_at=now()`,
      [s.companyId, s.timezone, s.horizonDays, s.cleanupAfterDays],
    );
    return s;
  }
}
