import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ExpirySettings } from './settings.types.js';

interface Row {
  company_id: string;
  timezone: string;
  scan_hour: number;
  thresholds: number[];
  type_overrides: Record<string, number[]>;
  escalation_chain: string[];
  escalation_after_days: number;
  updated_at: Date;
}

const toSettings = (r: Row): ExpirySettings => ({
  companyId: r.company_id,
  timezone: r.timezone,
  scanHour: r.scan_hour,
  thresholds: r.thresholds,
  typeOverrides: r.type_overrides,
  escalationChain: r.escalation_chain,
  escalationAfterDays: r.escalation_after_days,
  updatedAt: r.updated_at,
});

@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(companyId: string): Promise<ExpirySettings | null> {
    const rows: Row[] = await this.dataSource.query('SELECT * FROM document_settings WHERE company_id = $1', [companyId]);
    return rows.length ? toSettings(rows[0]) : null;
  }

  async save(s: Omit<ExpirySettings, 'updatedAt'>): Promise<ExpirySettings> {
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO document_settings (company_id, timezone, scan_hour, thresholds, type_overrides, escalation_chain, escalation_after_days, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (company_id) DO UPDATE SET timezone = EXCLUDED.timezone, scan_hour = EXCLUDED.scan_hour,
         thresholds = EXCLUDED.thresholds, type_overrides = EXCLUDED.type_overrides, escalation_chain = EXCLUDED.escalation_chain,
         escalation_after_days = EXCLUDED.escalation_after_days, updated_at = now()
       RETURNING *`,
      [s.companyId, s.timezone, s.scanHour, s.thresholds, JSON.stringify(s.typeOverrides), s.escalationChain, s.escalationAfterDays],
    );
    return toSettings(rows[0]);
  }
}
