import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Tenant, TenantPatch } from './tenant.types.js';

type Runner = Pick<EntityManager, 'query'>;

interface Row {
  company_id: string;
  name: string | null;
  timezone: string;
  locale: string;
  active: boolean;
  paused: boolean;
  version: string;
  created_at: Date;
  updated_at: Date;
}

const toTenant = (r: Row): Tenant => ({
  companyId: r.company_id,
  name: r.name,
  timezone: r.timezone,
  locale: r.locale,
  active: r.active,
  paused: r.paused,
  version: Number(r.version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** TypeORM's postgres driver answers UPDATE … RETURNING with [rows, rowCount]. */
function updated<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

const COLUMNS = 'company_id, name, timezone, locale, active, paused, version, created_at, updated_at';

/** The only file that reads and writes the tenants table (the tenant registry). */
@Injectable()
export class TenantsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Inserts a new tenant (version 1); null when the company is registered already. */
  async insert(t: Omit<Tenant, 'version' | 'createdAt' | 'updatedAt'>, now: Date, db: Runner): Promise<Tenant | null> {
    const rows: Row[] = await db.query(
      `INSERT INTO tenants (company_id, name, timezone, locale, active, paused, version, published_version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 1, 0, $7, $7)
       ON CONFLICT (company_id) DO NOTHING RETURNING ${COLUMNS}`,
      [t.companyId, t.name, t.timezone, t.locale, t.active, t.paused, now],
    );
    return rows[0] ? toTenant(rows[0]) : null;
  }

  /** The tenant, row-locked for the transaction (changes are serialised per tenant). */
  async lock(companyId: string, db: Runner): Promise<Tenant | null> {
    const rows: Row[] = await db.query(`SELECT ${COLUMNS} FROM tenants WHERE company_id = $1 FOR UPDATE`, [companyId]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  /** Applies a change and bumps the version. */
  async update(companyId: string, patch: TenantPatch, now: Date, db: Runner): Promise<Tenant> {
    const rows = updated<Row>(await db.query(
      `UPDATE tenants SET name = CASE WHEN $2 THEN $3 ELSE name END, timezone = coalesce($4, timezone), locale = coalesce($5, locale),
         active = coalesce($6, active), paused = coalesce($7, paused), version = version + 1, updated_at = $8
       WHERE company_id = $1 RETURNING ${COLUMNS}`,
      [companyId, 'name' in patch, patch.name ?? null, patch.timezone ?? null, patch.locale ?? null, patch.active ?? null, patch.paused ?? null, now],
    ));
    return toTenant(rows[0]);
  }

  async find(companyId: string): Promise<Tenant | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM tenants WHERE company_id = $1`, [companyId]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  /** A page of tenants by company id, after `after` (keyset); `only` limits it to one tenant. */
  async list(filter: { after?: string; limit: number; only?: string }): Promise<Tenant[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM tenants WHERE ($1::text IS NULL OR company_id > $1) AND ($2::text IS NULL OR company_id = $2)
       ORDER BY company_id LIMIT $3`,
      [filter.after ?? null, filter.only ?? null, filter.limit],
    );
    return rows.map(toTenant);
  }

  /** Tenants schedules fire for (active, not paused), grouped by timezone. */
  async activeByZone(db: Runner = this.dataSource.manager): Promise<Map<string, string[]>> {
    const rows: { timezone: string; ids: string[] }[] = await db.query(
      `SELECT timezone, array_agg(company_id ORDER BY company_id) AS ids FROM tenants WHERE active AND NOT paused GROUP BY timezone`,
    );
    return new Map(rows.map((r) => [r.timezone, r.ids]));
  }

  /** Versions not yet announced (a publish failed, or the process stopped before it). */
  async unpublished(limit: number): Promise<Tenant[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM tenants WHERE published_version < version ORDER BY company_id LIMIT $1`, [limit]);
    return rows.map(toTenant);
  }

  async markPublished(companyId: string, version: number): Promise<void> {
    await this.dataSource.query(`UPDATE tenants SET published_version = $2 WHERE company_id = $1 AND published_version < $2`, [companyId, version]);
  }

  /** The documents scan hour the registry was told, unless a newer one was applied already; null when stale or unknown. */
  async setScanHour(companyId: string, hour: number, version: number): Promise<Tenant | null> {
    const rows = updated<Row>(await this.dataSource.query(
      `UPDATE tenants SET scan_hour = $2, scan_hour_version = $3 WHERE company_id = $1 AND scan_hour_version < $3 RETURNING ${COLUMNS}`,
      [companyId, hour, version],
    ));
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async scanHour(companyId: string): Promise<number | null> {
    const rows: { scan_hour: number }[] = await this.dataSource.query(`SELECT scan_hour FROM tenants WHERE company_id = $1`, [companyId]);
    return rows[0]?.scan_hour ?? null;
  }

  /**
   * Tenants whose schedule `${prefix}${companyId}` is missing or not at their scan
   * hour (registered before it existed, or a crash between the commit and the schedule).
   */
  async scanSchedulesOutOfDate(prefix: string, limit: number): Promise<{ companyId: string; scanHour: number }[]> {
    const rows: { company_id: string; scan_hour: number }[] = await this.dataSource.query(
      `SELECT t.company_id, t.scan_hour FROM tenants t LEFT JOIN schedules s ON s.name = $1 || t.company_id
        WHERE s.id IS NULL OR s.cron IS DISTINCT FROM '0 ' || t.scan_hour || ' * * *'
        ORDER BY t.company_id LIMIT $2`,
      [prefix, limit],
    );
    return rows.map((r) => ({ companyId: r.company_id, scanHour: r.scan_hour }));
  }
}
