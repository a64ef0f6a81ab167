import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RunState } from '../../../../../libs/common/src/index.js';

export interface RunRecord {
  id: string;
  job: string;
  queue: string;
  companyId: string | null;
  scheduleId: string | null;
  occurrenceAt: Date | null;
  priority: string;
  state: RunState;
  attempts: number;
  maxAttempts: number;
  payload: unknown;
  scheduledFor: Date;
  publishedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  progress: number | null;
  progressMessage: string | null;
  error: string | null;
  result: unknown;
  retryOf: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RunFilter {
  /** null: every tenant. */
  scope: string | null;
  companyId?: string;
  job?: string;
  states?: string[];
  scheduleId?: string;
  from?: Date;
  to?: Date;
  /** Keyset: runs created strictly before this (created_at, id). */
  cursor?: { createdAt: Date; id: string };
  offset?: number;
  limit: number;
}

interface Row {
  id: string; job: string; queue: string; company_id: string | null; schedule_id: string | null; occurrence_at: Date | null; priority: string;
  state: RunState; attempts: number; max_attempts: number; payload: unknown; scheduled_for: Date; published_at: Date | null; started_at: Date | null;
  finished_at: Date | null; progress: number | null; progress_message: string | null; error: string | null; result: unknown; retry_of: string | null;
  created_at: Date; updated_at: Date;
}

const toRun = (r: Row): RunRecord => ({
  id: r.id, job: r.job, queue: r.queue, companyId: r.company_id, scheduleId: r.schedule_id, occurrenceAt: r.occurrence_at, priority: r.priority,
  state: r.state, attempts: r.attempts, maxAttempts: r.max_attempts, payload: r.payload, scheduledFor: r.scheduled_for, publishedAt: r.published_at,
  startedAt: r.started_at, finishedAt: r.finished_at,
  durationMs: r.started_at && r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
  progress: r.progress, progressMessage: r.progress_message, error: r.error, result: r.result, retryOf: r.retry_of, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Reads of job_runs for the admin API, every one scoped by tenant. */
@Injectable()
export class RunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(f: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (f.scope !== null) where.push(`company_id = ${p(f.scope)}`);
    if (f.companyId) where.push(`company_id = ${p(f.companyId)}`);
    if (f.job) where.push(`job = ${p(f.job)}`);
    if (f.states?.length) where.push(`state = ANY(${p(f.states)})`);
    if (f.scheduleId) where.push(`schedule_id = ${p(f.scheduleId)}`);
    if (f.from) where.push(`created_at >= ${p(f.from)}`);
    if (f.to) where.push(`created_at < ${p(f.to)}`);
    if (f.cursor) where.push(`(created_at, id) < (${p(f.cursor.createdAt)}, ${p(f.cursor.id)})`);
    const sql = `SELECT * FROM job_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ${p(f.limit)}${f.offset ? ` OFFSET ${p(f.offset)}` : ''}`;
    const rows: Row[] = await this.dataSource.query(sql, params);
    return rows.map(toRun);
  }

  async get(id: string, scope: string | null): Promise<RunRecord | null> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM job_runs WHERE id = $1 AND ($2::text IS NULL OR company_id = $2)`,
      [id, scope],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** Deletes finished runs finished before `before` (failed and dead ones only if asked), in batches. */
  async deleteFinished(before: Date, includeFailed: boolean, scope: string | null, batch = 5_000): Promise<number> {
    const states = includeFailed ? ['succeeded', 'cancelled', 'failed', 'dead'] : ['succeeded', 'cancelled'];
    let total = 0;
    for (;;) {
      const res: [unknown[], number] = await this.dataSource.query(
        `DELETE FROM job_runs WHERE id IN (
           SELECT id FROM job_runs WHERE state = ANY($1) AND coalesce(finished_at, updated_at) < $2 AND ($3::text IS NULL OR company_id = $3) LIMIT $4)`,
        [states, before, scope, batch],
      );
      const n = Array.isArray(res) ? Number(res[1] ?? 0) : 0;
      total += n;
      if (n < batch) return total;
    }
  }}
