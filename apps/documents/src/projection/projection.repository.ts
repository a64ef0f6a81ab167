import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ExpiryCursor, ProjectedDocument } from './projection.types.js';

interface Row {
  company_id: string;
  id: string;
  type: string | null;
  title: string | null;
  owner: string | null;
  responsible_role: string | null;
  expires_at: Date | null;
  version: string;
  updated_at: Date;
}

const toDocument = (r: Row): ProjectedDocument => ({
  companyId: r.company_id,
  id: r.id,
  type: r.type,
  title: r.title,
  owner: r.owner,
  responsibleRole: r.responsible_role,
  expiresAt: r.expires_at,
  version: Number(r.version),
  updatedAt: r.updated_at,
});

const COLUMNS = 'company_id, id, type, title, owner, responsible_role, expires_at, version, updated_at';

@Injectable()
export class ProjectionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Applies an upsert unless the row holds the same or a newer version (a
   * tombstone included). Returns false when it was stale or a repeat.
   */
  async upsert(d: ProjectedDocument): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO documents (company_id, id, type, title, owner, responsible_role, expires_at, version, deleted, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, now())
       ON CONFLICT (company_id, id) DO UPDATE SET type = EXCLUDED.type, title = EXCLUDED.title, owner = EXCLUDED.owner,
         responsible_role = EXCLUDED.responsible_role, expires_at = EXCLUDED.expires_at, version = EXCLUDED.version,
         deleted = false, updated_at = now()
       WHERE documents.version < EXCLUDED.version
       RETURNING id`,
      [d.companyId, d.id, d.type, d.title, d.owner, d.responsibleRole, d.expiresAt, String(d.version)],
    );
    return rows.length === 1;
  }

  /**
   * Writes a tombstone with the delete's version. It wins over an upsert of the
   * same version (the delete came last for that version), loses to a newer one.
   */
  async tombstone(companyId: string, id: string, version: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO documents (company_id, id, version, deleted, updated_at) VALUES ($1, $2, $3, true, now())
       ON CONFLICT (company_id, id) DO UPDATE SET deleted = true, version = EXCLUDED.version, updated_at = now()
       WHERE documents.version < EXCLUDED.version OR (documents.version = EXCLUDED.version AND NOT documents.deleted)
       RETURNING id`,
      [companyId, id, String(version)],
    );
    return rows.length === 1;
  }

  async find(companyId: string, id: string): Promise<ProjectedDocument | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM documents WHERE company_id = $1 AND id = $2 AND NOT deleted`, [companyId, id]);
    return rows.length ? toDocument(rows[0]) : null;
  }

  /** One page of a tenant's live documents expiring in [from, to), after the cursor, by (expires_at, id). */
  async pageByExpiry(companyId: string, from: Date, to: Date | null, after: ExpiryCursor | null, limit: number): Promise<ProjectedDocument[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM documents
       WHERE company_id = $1 AND NOT deleted AND expires_at IS NOT NULL
         AND expires_at >= $2 AND ($3::timestamptz IS NULL OR expires_at < $3)
         AND ($4::timestamptz IS NULL OR (expires_at, id) > ($4::timestamptz, $5::text))
       ORDER BY expires_at, id
       LIMIT $6`,
      [companyId, from, to, after?.expiresAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toDocument);
  }
}
