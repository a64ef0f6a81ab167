import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface DeadLetterFilter {
  /** Job name (message type). */
  job?: string;
  companyId?: string;
  /** Substring of the error text, case-insensitive (for finding a family of failures; decisions never use it). */
  error?: string;
  reason?: string;
  consumer?: string;
  /** Include dead letters already retried (default false). */
  includeRetried?: boolean;
  ids?: string[];
}

export interface DeadLetterRow {
  id: string;
  stream: string;
  consumer: string;
  subject: string;
  job: string | null;
  companyId: string | null;
  headers: Record<string, string[]>;
  payload: string;
  reason: string;
  error: string;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
  runId: string | null;
  retriedAt: Date | null;
  createdAt: Date;
}

type Raw = {
  id: string; stream: string; consumer: string; subject: string; message_type: string | null; company_id: string | null;
  headers: Record<string, string[]>; payload: string; reason: string; error: string; attempts: number;
  first_failed_at: Date; last_failed_at: Date; run_id: string | null; retried_at: Date | null; created_at: Date;
};

const toRow = (r: Raw): DeadLetterRow => ({
  id: r.id, stream: r.stream, consumer: r.consumer, subject: r.subject, job: r.message_type, companyId: r.company_id,
  headers: r.headers, payload: r.payload, reason: r.reason, error: r.error, attempts: r.attempts,
  firstFailedAt: r.first_failed_at, lastFailedAt: r.last_failed_at, runId: r.run_id, retriedAt: r.retried_at, createdAt: r.created_at,
});

function where(f: DeadLetterFilter, params: unknown[]): string {
  const clauses: string[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (f.job) add('message_type = ?', f.job);
  if (f.companyId) add('company_id = ?', f.companyId);
  if (f.reason) add('reason = ?', f.reason);
  if (f.consumer) add('consumer = ?', f.consumer);
  if (f.error) add(`error ILIKE '%' || ? || '%'`, f.error.replace(/[\\%_]/g, (c) => `\\${c}`));
  if (f.ids) add('id = ANY(?::text[])', f.ids);
  if (!f.includeRetried) clauses.push('retried_at IS NULL');
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** SQL of the DLQ tools (dead_letters, and the job_runs/outbox rows a retry plans). */
@Injectable()
export class DeadLetterToolsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Newest first; keyset pagination by (created_at, id) through `before`. */
  async list(filter: DeadLetterFilter, page: { limit: number; before?: { createdAt: Date; id: string } }): Promise<DeadLetterRow[]> {
    const params: unknown[] = [];
    let sql = where(filter, params);
    if (page.before) {
      params.push(page.before.createdAt.toISOString(), page.before.id);
      sql += `${sql ? ' AND' : 'WHERE'} (created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`;
    }
    params.push(page.limit);
    const rows: Raw[] = await this.dataSource.query(`SELECT * FROM dead_letters ${sql} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`, params);
    return rows.map(toRow);
  }

  async get(id: string, db: Pick<EntityManager, 'query'> = this.dataSource.manager, lock = false): Promise<DeadLetterRow | null> {
    const rows: Raw[] = await db.query(`SELECT * FROM dead_letters WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  /**
   * The dead run as its history tells it: its latest attempt (state = outcome, attempts = attempt number; a run
   * enqueued straight to JetStream has nothing else), else its planned job_runs row.
   */
  async run(id: string): Promise<Record<string, unknown> | null> {
    const [attempt]: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT run_id AS id, job, queue, company_id, outcome AS state, attempt AS attempts, error, result, scheduled_for, started_at, finished_at, worker, final
         FROM job_attempts WHERE run_id = $1 ORDER BY attempt DESC, final DESC, finished_at DESC LIMIT 1`,
      [id],
    );
    if (attempt) return attempt;
    const rows: Record<string, unknown>[] = await this.dataSource.query(`SELECT * FROM job_runs WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Every recorded attempt of a run, first to last. */
  async attempts(id: string): Promise<Record<string, unknown>[]> {
    return this.dataSource.query(
      `SELECT attempt, outcome, error, started_at, finished_at, duration_ms, worker FROM job_attempts WHERE run_id = $1 ORDER BY attempt, finished_at`,
      [id],
    );
  }

  /** The retry's run (queued, fresh attempts, retry_of the dead run) and its outbox row, and the dead letter marked retried. */
  async planRetry(
    tx: EntityManager,
    dead: DeadLetterRow,
    retry: { runId: string; job: string; priority: string; companyId: string | null; maxAttempts: number; payload: unknown; scheduledFor: Date; body: unknown; headers: Record<string, string> },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO job_runs (id, job, queue, company_id, priority, state, attempts, max_attempts, payload, scheduled_for, retry_of, options)
       SELECT $1, $2, $3, $4, $3, 'scheduled', 0, $5, $6::jsonb, $7, $8,
              (SELECT options FROM job_runs WHERE id = $8)`,
      [retry.runId, retry.job, retry.priority, retry.companyId, retry.maxAttempts, JSON.stringify(retry.payload ?? {}), retry.scheduledFor.toISOString(), dead.runId ?? dead.id],
    );
    await tx.query(`INSERT INTO outbox (run_id, subject, body, headers) VALUES ($1, $2, $3::jsonb, $4::jsonb)`, [
      retry.runId,
      dead.subject,
      JSON.stringify(retry.body),
      JSON.stringify(retry.headers),
    ]);
    await tx.query(`UPDATE dead_letters SET retried_at = now() WHERE id = $1`, [dead.id]);
  }

  async markPublished(runId: string): Promise<void> {
    await this.dataSource.query(
      `WITH o AS (UPDATE outbox SET published_at = now() WHERE run_id = $1 AND published_at IS NULL RETURNING run_id)
       UPDATE job_runs SET published_at = coalesce(published_at, now()), state = CASE WHEN state = 'scheduled' THEN 'queued' ELSE state END, updated_at = now()
        WHERE id = $1`,
      [runId],
    );
  }

  async maxAttemptsOf(runId: string): Promise<number | null> {
    const rows: { max_attempts: number }[] = await this.dataSource.query(`SELECT max_attempts FROM job_runs WHERE id = $1`, [runId]);
    return rows[0]?.max_attempts ?? null;
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    const params: unknown[] = [];
    const res: unknown = await this.dataSource.query(`DELETE FROM dead_letters ${where({ includeRetried: true, ...filter }, params)} RETURNING id`, params);
    return affectedRows(res).length;
  }
}

/** TypeORM's postgres driver returns [rows, count] for UPDATE and DELETE. */
export function affectedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return (result as T[]) ?? [];
}
