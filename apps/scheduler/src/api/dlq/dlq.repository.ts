import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DeadLetterRecord } from '../../../../../libs/common/src/dead-letters/dead-letter.repository.js';

/** A dead letter as the admin API shows it: the stored record plus when it was retried and created. */
export interface DeadLetterView extends DeadLetterRecord {
  retriedAt: Date | null;
  createdAt: Date;
}

export interface DeadLetterFilter {
  scope: string | null;
  companyId?: string;
  consumer?: string;
  messageType?: string;
  reason?: string;
  /** Case-insensitive substring of the error. */
  error?: string;
  status?: 'pending' | 'retried' | 'all';
  from?: Date;
  to?: Date;
  cursor?: { createdAt: Date; id: string };
  limit: number;
}

interface Row {
  id: string; stream: string; consumer: string; subject: string; message_type: string | null; company_id: string | null; headers: Record<string, string[]>;
  payload: string; reason: string; error: string; attempts: number; first_failed_at: Date; last_failed_at: Date; run_id: string | null;
  retried_at: Date | null; created_at: Date;
}

const toView = (r: Row): DeadLetterView => ({
  id: r.id, stream: r.stream, consumer: r.consumer, subject: r.subject, messageType: r.message_type, companyId: r.company_id, headers: r.headers,
  payload: r.payload, reason: r.reason, error: r.error, attempts: r.attempts, firstFailedAt: r.first_failed_at, lastFailedAt: r.last_failed_at,
  runId: r.run_id, retriedAt: r.retried_at, createdAt: r.created_at,
});

/** Reads and bookkeeping of dead_letters for the admin API, scoped by tenant. */
@Injectable()
export class DlqRepository {
  constructor(private readonly dataSource: DataSource) {}

  private where(f: Omit<DeadLetterFilter, 'limit'>, params: unknown[]): string {
    const where: string[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (f.scope !== null) where.push(`company_id = ${p(f.scope)}`);
    if (f.companyId) where.push(`company_id = ${p(f.companyId)}`);
    if (f.consumer) where.push(`consumer = ${p(f.consumer)}`);
    if (f.messageType) where.push(`message_type = ${p(f.messageType)}`);
    if (f.reason) where.push(`reason = ${p(f.reason)}`);
    if (f.error) where.push(`error ILIKE ${p(`%${f.error.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    if ((f.status ?? 'pending') === 'pending') where.push('retried_at IS NULL');
    if (f.status === 'retried') where.push('retried_at IS NOT NULL');
    if (f.from) where.push(`created_at >= ${p(f.from)}`);
    if (f.to) where.push(`created_at < ${p(f.to)}`);
    if (f.cursor) where.push(`(created_at, id) < (${p(f.cursor.createdAt)}, ${p(f.cursor.id)})`);
    return where.length ? `WHERE ${where.join(' AND ')}` : '';
  }

  async list(f: DeadLetterFilter): Promise<DeadLetterView[]> {
    const params: unknown[] = [];
    const where = this.where(f, params);
    params.push(f.limit);
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM dead_letters ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`, params);
    return rows.map(toView);
  }

  async get(id: string, scope: string | null): Promise<DeadLetterView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM dead_letters WHERE id = $1 AND ($2::text IS NULL OR company_id = $2)`, [id, scope]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async markRetried(ids: string[], at: Date): Promise<void> {
    if (ids.length) await this.dataSource.query(`UPDATE dead_letters SET retried_at = $2 WHERE id = ANY($1)`, [ids, at]);
  }

  async deleteIds(ids: string[], scope: string | null): Promise<number> {
    if (!ids.length) return 0;
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM dead_letters WHERE id = ANY($1) AND ($2::text IS NULL OR company_id = $2)`,
      [ids, scope],
    );
    return res[1];
  }

  async deleteMatching(f: Omit<DeadLetterFilter, 'limit' | 'cursor'>): Promise<number> {
    const params: unknown[] = [];
    const res: [unknown[], number] = await this.dataSource.query(`DELETE FROM dead_letters ${this.where(f, params)}`, params);
    return res[1];
  }
}
