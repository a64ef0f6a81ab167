import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ExpirySettings } from './settings.types.js';

interface Row {
  company_id: string;
  scan_hour: number;
  thresholds: number[];
  type_overrides: Record<string, number[]>;
  escalation_chain: string[];
  escalation_after_days: number;
  version: string;
  updated_at: Date;
}

export type StoredSettings = Omit<ExpirySettings, 'timezone'> & { version: number };

const toSettings = (r: Row): StoredSettings => ({
  companyId: r.company_id,
  scanHour: r.scan_hour,
  thresholds: r.thresholds,
  typeOverrides: r.type_overrides,
  escalationChain: r.escalation_chain,
  escalationAfterDays: r.escalation_after_days,
  version: Number(r.version),
  updatedAt: r.updated_at,
});

@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async find(companyId: string): Promise<StoredSettings | null> {
    const rows: Row[] = await this.dataSource.query('SELECT * FROM document_settings WHERE company_id = $1', [companyId]);
    return rows.length ? toSettings(rows[0]) : null;
  }

  /** Saves and bumps the version (the scheduler is told the scan hour of each version). */
  async save(s: Omit<StoredSettings, 'updatedAt' | 'version'>): Promise<StoredSettings> {
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO document_settings (company_id, scan_hour, thresholds, type_overrides, escalation_chain, escalation_after_days, version, announced_version, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 1, 0, now())
       ON CONFLICT (company_id) DO UPDATE SET scan_hour = EXCLUDED.scan_hour,
         thresholds = EXCLUDED.thresholds, type_overrides = EXCLUDED.type_overrides, escalation_chain = EXCLUDED.escalation_chain,
         escalation_after_days = EXCLUDED.escalation_after_days, version = document_settings.version + 1, updated_at = now()
       RETURNING *`,
      [s.companyId, s.scanHour, s.thresholds, JSON.stringify(s.typeOverrides), s.escalationChain, s.escalationAfterDays],
    );
    return toSettings(rows[0]);
  }

  /** Settings whose latest version the scheduler was not told yet (null: none pending). */
  async unannounced(companyId: string): Promise<StoredSettings | null> {
    const rows: Row[] = await this.dataSource.query('SELECT * FROM document_settings WHERE company_id = $1 AND announced_version < version', [companyId]);
    return rows.length ? toSettings(rows[0]) : null;
  }

  async markAnnounced(companyId: string, version: number): Promise<void> {
    await this.dataSource.query('UPDATE document_settings SET announced_version = $2 WHERE company_id = $1 AND announced_version < $2', [companyId, version]);
  }

  /** Forgets that a version was announced (a tenant the registry did not know yet), so the next scan announces it again. */
  async markUnannounced(companyId: string): Promise<void> {
    await this.dataSource.query('UPDATE document_settings SET announced_version = 0 WHERE company_id = $1', [companyId]);
  }
}
