import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { affectedRows } from './dead-letter-tools.repository.js';
import type { JobOptions, RunState } from './job.types.js';

/** A run about to start an attempt. */
export interface RunStart {
  id: string;
  job: string;
  priority: string;
  companyId: string | null;
  maxAttempts: number;
  payload: unknown;
  scheduledFor: Date;
  startedAt: Date;
  /** When the stream stored the job's message: the run's published_at unless its publisher recorded one. */
  publishedAt?: Date | null;
}

/** The run as it stands after the start was recorded. */
export interface StartedRun {
  id: string;
  /** Attempts including this one (unchanged when the run was already finished). */
  attempts: number;
  maxAttempts: number;
  /** 'running', or the terminal state the run was already in (cancelled, succeeded...). */
  state: RunState;
  options: Partial<JobOptions> | null;
}

/** A run as stored, before this attempt: read ahead for a job delivered early. */
export interface StoredRun {
  id: string;
  /** Attempts made so far. */
  attempts: number;
  maxAttempts: number;
  state: RunState;
  options: Partial<JobOptions> | null;
}

export interface RunSettlement {
  id: string;
  state: RunState;
  finishedAt: Date | null;
  error: string | null;
  result: unknown;
  /** -1 gives back the attempt a snooze used. */
  attemptsDelta: number;
  /**
   * The attempt this outcome belongs to. When the run has moved on (a worker
   * stalled past the ack wait and another worker took the message as the next
   * attempt), the stale attempt's outcome is not recorded over the current one.
   */
  attempt?: number;
}

export interface RunProgress {
  id: string;
  progress: number;
  message: string | null;
}

type StartedRow = { id: string; attempts: number; max_attempts: number; state: RunState; options: Partial<JobOptions> | null };

/**
 * What starting an attempt does to an existing row (alias r): counts the
 * attempt and marks it running, unless the run already finished, which is left
 * as it is (and returned with its state).
 */
function startAssignments(startedAt: string, publishedAt: string): string {
  const finished = `r.state IN ('succeeded', 'failed', 'dead', 'cancelled')`;
  return `state = CASE WHEN ${finished} THEN r.state ELSE 'running' END,
         attempts = CASE WHEN ${finished} THEN r.attempts ELSE r.attempts + 1 END,
         started_at = CASE WHEN ${finished} THEN r.started_at ELSE ${startedAt} END,
         published_at = coalesce(r.published_at, ${publishedAt}, ${startedAt}),
         finished_at = CASE WHEN ${finished} THEN r.finished_at ELSE NULL END,
         updated_at = now()`;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/**
 * Rows in id order: every multi-row write of job_runs (these, the outbox's
 * markPublished, other processes' batches) then locks rows in the same order,
 * so two batches sharing rows wait for each other instead of deadlocking.
 */
function byId<T extends { id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

// START and SETTLE are planned per call, not prepared (database/prepared-statement.ts):
// their plans scan job_runs, and a generic plan made while it was small keeps
// seq-scanning it after it grows (measured 30x slower) until autovacuum analyzes it.

// Runs planned through the outbox already have their row: one UPDATE, no payloads shipped.
const START = `UPDATE job_runs r SET ${startAssignments('v.started_at', 'v.published_at')}
     FROM jsonb_to_recordset($2::jsonb) AS v(id text, started_at timestamptz, published_at timestamptz),
          (SELECT id FROM job_runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE) l
    WHERE r.id = v.id AND l.id = v.id
   RETURNING r.id, r.attempts, r.max_attempts, r.state, r.options`;

const SETTLE = `UPDATE job_runs r
      SET state = v.state,
          finished_at = v.finished_at,
          error = v.error,
          result = coalesce(v.result, r.result),
          attempts = greatest(0, r.attempts + v.attempts_delta),
          progress = CASE WHEN v.state = 'succeeded' THEN 100 ELSE r.progress END,
          updated_at = now()
     FROM jsonb_to_recordset($2::jsonb)
       AS v(id text, state text, finished_at timestamptz, error text, result jsonb, attempts_delta int, attempt int),
          (SELECT id FROM job_runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE) l
    WHERE r.id = v.id AND l.id = v.id
      AND NOT (r.state = 'cancelled' AND v.state IN ('retrying', 'queued'))
      AND (v.attempt IS NULL OR r.attempts = v.attempt)`;

/** The job runtime's reads and writes of job_runs: one multi-row statement per batch. */
@Injectable()
export class JobRunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Marks runs running and counts the attempt, inserting the row when the job
   * was published without the outbox. A run already finished (cancelled while
   * queued, or succeeded and redelivered after a lost ack) is left as it is and
   * returned with its state, so the caller settles it without running it.
   */
  async start(input: RunStart[]): Promise<StartedRun[]> {
    if (input.length === 0) return [];
    const runs = byId(input);
    const updated = affectedRows<StartedRow>(
      await this.dataSource.query(START, [
        runs.map((r) => r.id),
        JSON.stringify(runs.map((r) => ({ id: r.id, started_at: r.startedAt, published_at: r.publishedAt ?? null }))),
      ]),
    );
    const found = new Set(updated.map((r) => r.id));
    const missing = runs.filter((r) => !found.has(r.id));
    const inserted = missing.length ? await this.insertStarted(missing) : [];
    return [...updated, ...inserted].map((r) => ({ id: r.id, attempts: r.attempts, maxAttempts: r.max_attempts, state: r.state, options: r.options }));
  }

  /** Rows for jobs published without the outbox (or a race with their planner): inserted running, or counted if they appeared meanwhile. */
  private insertStarted(runs: RunStart[]): Promise<StartedRow[]> {
    return this.dataSource.query(
      `INSERT INTO job_runs AS r (id, job, queue, company_id, priority, state, attempts, max_attempts, payload, scheduled_for, published_at, started_at)
       SELECT t.id, t.job, t.priority, t.company_id, t.priority, 'running', 1, t.max_attempts, t.payload, t.scheduled_for, coalesce(t.published_at, t.started_at), t.started_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::jsonb[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])
           AS t(id, job, priority, company_id, max_attempts, payload, scheduled_for, started_at, published_at)
       ON CONFLICT (id) DO UPDATE SET ${startAssignments('EXCLUDED.started_at', 'EXCLUDED.published_at')}
       RETURNING r.id, r.attempts, r.max_attempts, r.state, r.options`,
      [
        runs.map((r) => r.id),
        runs.map((r) => r.job),
        runs.map((r) => r.priority),
        runs.map((r) => r.companyId),
        runs.map((r) => r.maxAttempts),
        runs.map((r) => json(r.payload ?? {})),
        runs.map((r) => iso(r.scheduledFor)),
        runs.map((r) => iso(r.startedAt)),
        runs.map((r) => iso(r.publishedAt ?? null)),
      ],
    );
  }

  /** Runs as stored (those that exist), one indexed read for many ids. */
  async peek(ids: string[]): Promise<StoredRun[]> {
    if (ids.length === 0) return [];
    const rows: StartedRow[] = await this.dataSource.query('SELECT id, attempts, max_attempts, state, options FROM job_runs WHERE id = ANY($1::text[])', [ids]);
    return rows.map((r) => ({ id: r.id, attempts: r.attempts, maxAttempts: r.max_attempts, state: r.state, options: r.options }));
  }

  /**
   * Records outcomes. A run an operator cancelled stays cancelled unless this
   * settlement is final (the handler finished before it saw the cancellation).
   */
  async settle(input: RunSettlement[]): Promise<void> {
    if (input.length === 0) return;
    const items = byId(input);
    await this.dataSource.query(SETTLE, [
      items.map((i) => i.id),
      // One JSON document for the batch: serialised natively, where seven array literals were built in JS.
      JSON.stringify(
        items.map((i) => ({
          id: i.id,
          state: i.state,
          finished_at: i.finishedAt,
          error: i.error,
          result: i.result ?? null,
          attempts_delta: i.attemptsDelta,
          attempt: i.attempt ?? null,
        })),
      ),
    ]);
  }

  /** Progress of running runs (the latest report per run). */
  async progress(items: RunProgress[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE job_runs r SET progress = v.progress, progress_message = v.message, updated_at = now()
         FROM unnest($1::text[], $2::int[], $3::text[]) AS v(id, progress, message)
        WHERE r.id = v.id AND r.state = 'running'`,
      [items.map((i) => i.id), items.map((i) => i.progress), items.map((i) => i.message)],
    );
  }

  /**
   * Flags a run cancelled unless it already finished; a queued run is then
   * settled without running when its message arrives. Returns the state it was
   * in, or null when it did not exist or had already finished.
   */
  async cancel(runId: string, companyId?: string): Promise<RunState | null> {
    const rows = affectedRows<{ previous: RunState }>(await this.dataSource.query(
      `UPDATE job_runs r SET state = 'cancelled', finished_at = CASE WHEN p.state = 'running' THEN NULL ELSE now() END,
              error = coalesce(r.error, 'cancelled by an operator'), updated_at = now()
         FROM (SELECT id, state FROM job_runs WHERE id = $1 AND ($2::text IS NULL OR company_id = $2) FOR UPDATE) p
        WHERE r.id = p.id AND p.state NOT IN ('succeeded', 'failed', 'dead', 'cancelled')
        RETURNING p.state AS previous`,
      [runId, companyId ?? null],
    ));
    return rows[0]?.previous ?? null;
  }
}
