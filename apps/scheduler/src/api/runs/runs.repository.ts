import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RunState } from '../../../../../libs/common/src/index.js';

/** One run as the admin API shows it. `createdAt` is its place in time order (finished, started or planned). */
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
  maxAttempts: number | null;
  payload: unknown;
  scheduledFor: Date | null;
  publishedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  progress: number | null;
  progressMessage: string | null;
  error: string | null;
  result: unknown;
  retryOf: string | null;
  parentRunId: string | null;
  /** The worker that ran the latest attempt, or runs it now. */
  worker: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One attempt of a run (job_attempts). */
export interface AttemptView {
  attempt: number;
  outcome: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  error: string | null;
  /** Stack frames of a failed attempt (left out for read-only roles: see seesInternals). */
  stack?: string | null;
  /** Attempts the run was allowed (null for attempts recorded before 2026-12-04). */
  maxAttempts: number | null;
  result: unknown;
  worker: string | null;
}

export interface RunFilter {
  /** null: every tenant. */
  scope: string | null;
  job?: string;
  states?: string[];
  scheduleId?: string;
  from?: Date;
  to?: Date;
  /** Keyset: runs strictly before (createdAt, id). */
  cursor?: { createdAt: Date; id: string };
  offset?: number;
  limit: number;
}

type AttemptRow = {
  run_id: string; attempt: number; job: string; queue: string; company_id: string | null; outcome: RunState; final: boolean;
  scheduled_for: Date | null; enqueued_at: Date | null; started_at: Date; finished_at: Date; duration_ms: number; error: string | null;
  result: unknown; payload: unknown; schedule_id: string | null; parent_run_id: string | null; worker: string | null; error_stack: string | null;
  planned_payload: unknown; max_attempts: number | null; occurrence_at: Date | null; retry_of: string | null;
};

type PlannedRow = {
  id: string; job: string; queue: string; company_id: string | null; schedule_id: string | null; occurrence_at: Date | null; priority: string;
  state: RunState; attempts: number; max_attempts: number; payload: unknown; scheduled_for: Date; published_at: Date | null; started_at: Date | null;
  finished_at: Date | null; progress: number | null; progress_message: string | null; error: string | null; result: unknown; retry_of: string | null;
  parent_run_id: string | null; created_at: Date; updated_at: Date;
};

const fromAttempt = (a: AttemptRow): RunRecord => ({
  id: a.run_id, job: a.job, queue: a.queue, companyId: a.company_id, scheduleId: a.schedule_id, occurrenceAt: a.occurrence_at, priority: a.queue,
  state: a.outcome, attempts: a.attempt, maxAttempts: a.max_attempts, payload: a.planned_payload ?? a.payload, scheduledFor: a.scheduled_for,
  publishedAt: a.enqueued_at, startedAt: a.started_at, finishedAt: a.final ? a.finished_at : null, durationMs: a.duration_ms,
  progress: a.outcome === 'succeeded' ? 100 : null, progressMessage: null, error: a.error, result: a.result, retryOf: a.retry_of,
  parentRunId: a.parent_run_id, worker: a.worker, createdAt: a.finished_at, updatedAt: a.finished_at,
});

const fromPlanned = (r: PlannedRow): RunRecord => ({
  id: r.id, job: r.job, queue: r.queue, companyId: r.company_id, scheduleId: r.schedule_id, occurrenceAt: r.occurrence_at, priority: r.priority,
  state: r.state, attempts: r.attempts, maxAttempts: r.max_attempts, payload: r.payload, scheduledFor: r.scheduled_for, publishedAt: r.published_at,
  startedAt: r.started_at, finishedAt: r.finished_at,
  durationMs: r.started_at && r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
  progress: r.progress, progressMessage: r.progress_message, error: r.error, result: r.result, retryOf: r.retry_of, parentRunId: r.parent_run_id,
  worker: null, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Attempt states that end up in history; planned (not yet run) states live in job_runs; running and waiting ones are live. */
export const HISTORY_STATES = ['succeeded', 'failed', 'dead', 'cancelled', 'retrying'];
export const PLANNED_STATES = ['scheduled', 'queued'];

/** The history a run leaves: the latest attempt of each run (job_attempts), and planned runs not yet run (job_runs). Every read is scoped by tenant. */
@Injectable()
export class RunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Finished and retrying runs, newest first: each run's final attempt, or its latest when it is still retrying. */
  async history(f: RunFilter): Promise<RunRecord[]> {
    const states = (f.states ?? HISTORY_STATES).filter((s) => HISTORY_STATES.includes(s));
    if (states.length === 0) return [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [`a.outcome = ANY(${p(states)})`, `(a.final OR NOT EXISTS (SELECT 1 FROM job_attempts b WHERE b.run_id = a.run_id AND b.attempt > a.attempt))`];
    if (f.scope !== null) where.push(`a.company_id = ${p(f.scope)}`);
    if (f.job) where.push(`a.job = ${p(f.job)}`);
    if (f.scheduleId) where.push(`a.schedule_id = ${p(f.scheduleId)}`);
    if (f.from) where.push(`a.finished_at >= ${p(f.from)}`);
    if (f.to) where.push(`a.finished_at < ${p(f.to)}`);
    if (f.cursor) where.push(`(a.finished_at, a.run_id) < (${p(f.cursor.createdAt)}, ${p(f.cursor.id)})`);
    const rows: AttemptRow[] = await this.dataSource.query(
      `SELECT a.*, r.payload AS planned_payload, coalesce(a.max_attempts, r.max_attempts) AS max_attempts, r.occurrence_at, r.retry_of
         FROM job_attempts a LEFT JOIN job_runs r ON r.id = a.run_id
        WHERE ${where.join(' AND ')}
        ORDER BY a.finished_at DESC, a.run_id DESC LIMIT ${p(f.limit)}${f.offset ? ` OFFSET ${p(f.offset)}` : ''}`,
      params,
    );
    return rows.map(fromAttempt);
  }

  /** Planned runs not yet run (scheduled, or queued through the outbox), newest first. */
  async planned(f: RunFilter): Promise<RunRecord[]> {
    const states = (f.states ?? PLANNED_STATES).filter((s) => PLANNED_STATES.includes(s));
    if (states.length === 0) return [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [`state = ANY(${p(states)})`, `NOT EXISTS (SELECT 1 FROM job_attempts a WHERE a.run_id = job_runs.id)`];
    if (f.scope !== null) where.push(`company_id = ${p(f.scope)}`);
    if (f.job) where.push(`job = ${p(f.job)}`);
    if (f.scheduleId) where.push(`schedule_id = ${p(f.scheduleId)}`);
    if (f.from) where.push(`created_at >= ${p(f.from)}`);
    if (f.to) where.push(`created_at < ${p(f.to)}`);
    if (f.cursor) where.push(`(created_at, id) < (${p(f.cursor.createdAt)}, ${p(f.cursor.id)})`);
    const rows: PlannedRow[] = await this.dataSource.query(
      `SELECT * FROM job_runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${p(f.limit)}${f.offset ? ` OFFSET ${p(f.offset)}` : ''}`,
      params,
    );
    return rows.map(fromPlanned);
  }

  /** A run by id: its latest attempt (with its planned row's details), else its planned row. */
  async get(id: string, scope: string | null): Promise<RunRecord | null> {
    const [a]: AttemptRow[] = await this.dataSource.query(
      `SELECT a.*, r.payload AS planned_payload, coalesce(a.max_attempts, r.max_attempts) AS max_attempts, r.occurrence_at, r.retry_of
         FROM job_attempts a LEFT JOIN job_runs r ON r.id = a.run_id
        WHERE a.run_id = $1 AND ($2::text IS NULL OR a.company_id = $2)
        ORDER BY a.attempt DESC, a.final DESC, a.finished_at DESC LIMIT 1`,
      [id, scope],
    );
    const [r]: PlannedRow[] = await this.dataSource.query(`SELECT * FROM job_runs WHERE id = $1 AND ($2::text IS NULL OR company_id = $2)`, [id, scope]);
    if (a) {
      const run = fromAttempt(a);
      // A planned run cancelled while its last attempt was still retrying: its row has the last word.
      if (r && r.state === 'cancelled' && !a.final) return { ...run, state: 'cancelled', finishedAt: r.finished_at, error: r.error };
      return run;
    }
    return r ? fromPlanned(r) : null;
  }

  async attempts(id: string, scope: string | null): Promise<AttemptView[]> {
    const rows: AttemptRow[] = await this.dataSource.query(
      `SELECT * FROM job_attempts WHERE run_id = $1 AND ($2::text IS NULL OR company_id = $2) ORDER BY attempt, finished_at`,
      [id, scope],
    );
    return rows.map((a) => ({
      attempt: a.attempt, outcome: a.outcome, startedAt: a.started_at, finishedAt: a.finished_at, durationMs: a.duration_ms, error: a.error, stack: a.error_stack,
      maxAttempts: a.max_attempts, result: a.result, worker: a.worker,
    }));
  }

  /**
   * Deletes finished planned runs and finished history older than `before`
   * (failed and dead ones only if asked), in batches; returns how many rows.
   */
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
      if (n < batch) break;
    }
    const outcomes = includeFailed ? ['succeeded', 'cancelled', 'failed', 'dead', 'retrying', 'lost'] : ['succeeded', 'cancelled'];
    const res: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM job_attempts WHERE outcome = ANY($1) AND finished_at < $2 AND ($3::text IS NULL OR company_id = $3)`,
      [outcomes, before, scope],
    );
    return total + (Array.isArray(res) ? Number(res[1] ?? 0) : 0);
  }
}
