import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditEntry } from './audit.types.js';

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditFilter {
  companyId?: string | null;
  /** Tenant-scoped callers only see their tenant's entries. */
  scope: string | null;
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  before?: { at: Date; id: string };
  limit: number;
}

interface Row {
  id: string;
  at: Date;
  actor: string;
  actor_role: string;
  actor_kind: string;
  action: string;
  target_type: string;
  target_id: string | null;
  company_id: string | null;
  before: unknown;
  after: unknown;
  request_id: string | null;
  ip: string | null;
}

const toEntry = (r: Row): AuditEntry => ({
  id: String(r.id), at: r.at, actor: r.actor, actorRole: r.actor_role, actorKind: r.actor_kind, action: r.action, targetType: r.target_type,
  targetId: r.target_id, companyId: r.company_id, before: r.before, after: r.after, requestId: r.request_id, ip: r.ip,
});

/**
 * The only file that reads or writes audit_log (migrations 1763840000000-audit, 1796366000001-audit-append-only).
 * Rows are inserted through the caller's transaction; the table refuses UPDATE, DELETE and TRUNCATE
 * except through audit_log_purge() (retention).
 */
@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(db: Pick<EntityManager, 'query'>, e: NewAuditEntry): Promise<AuditEntry> {
    const rows: Row[] = await db.query(
      `INSERT INTO audit_log (actor, actor_role, actor_kind, action, target_type, target_id, company_id, before, after, request_id, ip)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING *`,
      [e.actor, e.actorRole, e.actorKind, e.action, e.targetType, e.targetId, e.companyId,
        e.before === undefined ? null : JSON.stringify(e.before), e.after === undefined ? null : JSON.stringify(e.after), e.requestId, e.ip],
    );
    return toEntry(rows[0]);
  }

  /** Deletes at most `batch` entries older than `before` through audit_log_purge() (which audits the purge itself); returns how many. */
  async purge(before: Date, batch: number): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(`SELECT audit_log_purge($1, $2) AS n`, [before, batch]);
    return Number(rows[0].n);
  }

  async list(f: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.scope !== null) add('company_id = ?', f.scope);
    if (f.companyId) add('company_id = ?', f.companyId);
    if (f.action) add('action = ?', f.action);
    if (f.actor) add('actor = ?', f.actor);
    if (f.targetType) add('target_type = ?', f.targetType);
    if (f.targetId) add('target_id = ?', f.targetId);
    if (f.from) add('at >= ?', f.from);
    if (f.to) add('at < ?', f.to);
    if (f.before) {
      params.push(f.before.at, f.before.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(f.limit);
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toEntry);
  }
}
