import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Tenant } from '../schedules/schedule.types.js';

type Runner = Pick<EntityManager, 'query'>;

/** The only file that reads and writes the tenants table. */
@Injectable()
export class TenantsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts or updates; returns the timezone the tenant had before (null when new or inactive). */
  async upsert(t: Tenant, now: Date, db: Runner = this.dataSource.manager): Promise<{ previousTimezone: string | null }> {
    const rows: { previous: string | null }[] = await db.query(
      `WITH before AS (SELECT timezone FROM tenants WHERE company_id = $1 AND active)
       INSERT INTO tenants (company_id, timezone, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (company_id) DO UPDATE SET timezone = EXCLUDED.timezone, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
       RETURNING (SELECT timezone FROM before) AS previous`,
      [t.companyId, t.timezone, t.active, now],
    );
    return { previousTimezone: rows[0]?.previous ?? null };
  }

  async find(companyId: string): Promise<Tenant | null> {
    const rows: { company_id: string; timezone: string; active: boolean }[] = await this.dataSource.query(
      'SELECT company_id, timezone, active FROM tenants WHERE company_id = $1',
      [companyId],
    );
    return rows[0] ? { companyId: rows[0].company_id, timezone: rows[0].timezone, active: rows[0].active } : null;
  }

  /** Active tenants grouped by timezone. */
  async activeByZone(db: Runner = this.dataSource.manager): Promise<Map<string, string[]>> {
    const rows: { timezone: string; ids: string[] }[] = await db.query(
      `SELECT timezone, array_agg(company_id ORDER BY company_id) AS ids FROM tenants WHERE active GROUP BY timezone`,
    );
    return new Map(rows.map((r) => [r.timezone, r.ids]));
  }
}
