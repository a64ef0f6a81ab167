import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { PreparedStatement, queryPrepared } from '../database/prepared-statement.js';
import type { Priority } from '../messaging/subjects.js';
import type { JobOptions } from './job.types.js';

/** A run about to be written to job_runs with its outbox row, in one statement. */
export interface PlannedRun {
  id: string;
  job: string;
  /** The queue a run waits in: its priority. */
  queue: string;
  companyId: string | null;
  scheduleId: string | null;
  /** The occurrence it fires (schedules); unique with schedule and tenant. */
  occurrenceAt: Date | null;
  priority: Priority;
  maxAttempts: number;
  payload: unknown;
  idempotencyKey: string | null;
  scheduledFor: Date;
  options: Partial<JobOptions> | null;
  /** The outbox row. */
  subject: string;
  body: unknown;
  headers: Record<string, string>;
  /** Delayed runs stay in the outbox until then. */
  notBefore: Date | null;
  /** When it was planned, by the planner's clock (idempotency windows and retention read it). */
  createdAt: Date;
}

/** An outbox row ready to publish. */
export interface OutboxRow {
  seq: string;
  runId: string;
  subject: string;
  body: unknown;
  headers: Record<string, string>;
  job: string;
  scheduledFor: Date | null;
}

export interface ExistingRun {
  id: string;
  job: string;
  idempotencyKey: string;
  state: string;
  scheduledFor: Date;
}

type Runner = EntityManager;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/**
 * Runs and their outbox rows in one statement. A due run is `queued` from its
 * commit (the outbox guarantees it reaches the stream); a delayed one is
 * `scheduled` until it is published.
 */
const INSERT_RUNS = new PreparedStatement(
  'metronome_outbox_insert_runs',
  `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::int[],
                          $9::jsonb[], $10::text[], $11::timestamptz[], $12::jsonb[], $17::timestamptz[], $16::timestamptz[])
       AS t(id, job, queue, company_id, schedule_id, occurrence_at, priority, max_attempts, payload, idempotency_key, scheduled_for, options, created_at, not_before)
   ), ins AS (
     INSERT INTO job_runs (id, job, queue, company_id, schedule_id, occurrence_at, priority, state, max_attempts, payload, idempotency_key, scheduled_for, options, created_at, updated_at)
     SELECT id, job, queue, company_id, schedule_id, occurrence_at, priority, CASE WHEN not_before IS NULL THEN 'queued' ELSE 'scheduled' END, max_attempts, payload, idempotency_key, scheduled_for, options, created_at, created_at FROM input
     ON CONFLICT DO NOTHING
     RETURNING id
   )
   INSERT INTO outbox (run_id, subject, body, headers, not_before)
   SELECT o.run_id, o.subject, o.body, o.headers, o.not_before
     FROM unnest($1::text[], $13::text[], $14::jsonb[], $15::jsonb[], $16::timestamptz[]) WITH ORDINALITY AS o(run_id, subject, body, headers, not_before, n)
     JOIN ins ON ins.id = o.run_id
    ORDER BY o.n
   RETURNING run_id`,
);

/**
 * The only place that reads and writes job_runs rows for planning and the
 * outbox (invariants 1 and 2). Every method is one multi-row statement.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Inserts runs and their outbox rows in one statement. A run whose
   * (schedule, occurrence, tenant) or id already exists is skipped with its
   * outbox row; the returned list holds only what was inserted.
   */
  async insertRuns(db: Runner, runs: PlannedRun[]): Promise<PlannedRun[]> {
    if (runs.length === 0) return [];
    const rows = await queryPrepared<{ run_id: string }>(db, INSERT_RUNS, [
      runs.map((r) => r.id),
      runs.map((r) => r.job),
      runs.map((r) => r.queue),
      runs.map((r) => r.companyId),
      runs.map((r) => r.scheduleId),
      runs.map((r) => iso(r.occurrenceAt)),
      runs.map((r) => r.priority),
      runs.map((r) => r.maxAttempts),
      runs.map((r) => json(r.payload ?? {})),
      runs.map((r) => r.idempotencyKey),
      runs.map((r) => iso(r.scheduledFor)),
      runs.map((r) => json(r.options)),
      runs.map((r) => r.subject),
      runs.map((r) => json(r.body)),
      runs.map((r) => json(r.headers)),
      runs.map((r) => iso(r.notBefore)),
      runs.map((r) => iso(r.createdAt)),
    ]);
    if (rows.length === runs.length) return runs;
    const inserted = new Set(rows.map((r) => r.run_id));
    return runs.filter((r) => inserted.has(r.id));
  }

  /** Serialises concurrent enqueues of the same idempotency keys until the transaction ends. */
  async lockIdempotencyKeys(db: Runner, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const sorted = [...new Set(keys)].sort();
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended(k, 7)) FROM unnest($1::text[]) AS k ORDER BY k`, [sorted]);
  }

  /** The newest run per (job, idempotency key) created at or after `since`. */
  async findByIdempotencyKeys(db: Runner, pairs: { job: string; key: string }[], since: Date): Promise<ExistingRun[]> {
    if (pairs.length === 0) return [];
    const rows: { id: string; job: string; idempotency_key: string; state: string; scheduled_for: Date }[] = await db.query(
      `SELECT DISTINCT ON (r.job, r.idempotency_key) r.id, r.job, r.idempotency_key, r.state, r.scheduled_for
         FROM job_runs r
         JOIN unnest($1::text[], $2::text[]) AS k(job, key) ON r.job = k.job AND r.idempotency_key = k.key
        WHERE r.created_at >= $3
        ORDER BY r.job, r.idempotency_key, r.created_at DESC`,
      [pairs.map((p) => p.job), pairs.map((p) => p.key), since.toISOString()],
    );
    return rows.map((r) => ({ id: r.id, job: r.job, idempotencyKey: r.idempotency_key, state: r.state, scheduledFor: r.scheduled_for }));
  }

  /**
   * Locks up to `limit` unpublished rows left behind by their writer, oldest
   * first: rows without a due time older than `graceMs` (by the database
   * clock), rows with one (`not_before`) more than `dueGraceMs` past it (by
   * `now`, the caller's clock). Call inside a transaction; other relays skip them.
   */
  async lockUnpublished(db: Runner, now: Date, graceMs: number, dueGraceMs: number, limit: number): Promise<OutboxRow[]> {
    const rows: { seq: string; run_id: string; subject: string; body: unknown; headers: Record<string, string> }[] = await db.query(
      `SELECT seq, run_id, subject, body, headers
         FROM outbox
        WHERE published_at IS NULL
          AND ((not_before IS NOT NULL AND not_before <= $1::timestamptz - make_interval(secs => $4::double precision / 1000))
               OR (not_before IS NULL AND created_at <= now() - make_interval(secs => $2::double precision / 1000)))
        ORDER BY seq
        LIMIT $3
        FOR UPDATE SKIP LOCKED`,
      [now.toISOString(), graceMs, limit, dueGraceMs],
    );
    return rows.map((r) => toRow(r));
  }

  /**
   * Marks outbox rows published; runs still `scheduled` (delayed, look-ahead
   * claims, held parents) become `queued`. Due runs were written `queued`, so
   * their job_runs rows are not touched again here: no extra row version, and
   * no lock for the worker's start write to wait on. Rows are locked in id
   * order, like the job runtime's batches, so concurrent batches wait instead
   * of deadlocking. The outbox rows are found by run id alone: with
   * `published_at IS NULL` in the WHERE the planner would walk the partial
   * index of unpublished rows, dead entries and all.
   */
  async markPublished(db: Runner, runIds: string[], publishedAt: Date): Promise<void> {
    if (runIds.length === 0) return;
    await db.query(
      `WITH o AS (
         UPDATE outbox SET published_at = coalesce(published_at, $2) WHERE run_id = ANY($1::text[])
       )
       UPDATE job_runs r
          SET published_at = coalesce(r.published_at, $2), state = 'queued', updated_at = now()
         FROM (SELECT id FROM job_runs WHERE id = ANY($1::text[]) AND state = 'scheduled' ORDER BY id FOR UPDATE) l
        WHERE r.id = l.id`,
      [runIds, publishedAt.toISOString()],
    );
  }

  /** Unpublished rows, for the outbox backlog gauge. */
  async backlog(): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`);
    return Number(rows[0].n);
  }

  get db(): EntityManager {
    return this.dataSource.manager;
  }
}

function toRow(r: { seq: string; run_id: string; subject: string; body: unknown; headers: Record<string, string> }): OutboxRow {
  const body = r.body as { type?: string; data?: { scheduledFor?: string } };
  const scheduled = body?.data?.scheduledFor;
  return {
    seq: String(r.seq),
    runId: r.run_id,
    subject: r.subject,
    body: r.body,
    headers: r.headers ?? {},
    job: body?.type ?? 'unknown',
    scheduledFor: scheduled ? new Date(scheduled) : null,
  };
}
