import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { DURATION_BUCKETS, durationBucket } from './duration-histogram.js';
import { FAILED_OUTCOMES, FINAL_OUTCOMES, type AttemptRecord } from './attempt-record.js';

/** Days of job_attempts partitions kept ready ahead of today. */
export const PARTITION_DAYS_AHEAD = 7;

interface StatsRow {
  minute: string;
  job: string;
  queue: string;
  company_id: string;
  succeeded: number;
  failed: number;
  retried: number;
  dead: number;
  cancelled: number;
  duration_ms_sum: number;
  duration_hist: number[];
}

/** The per-minute rollup of a batch, keyed and sorted so concurrent batches lock its rows in one order. */
export function rollup(records: readonly AttemptRecord[]): StatsRow[] {
  const rows = new Map<string, StatsRow>();
  for (const r of records) {
    const minute = new Date(Math.floor(r.finishedAt.getTime() / 60_000) * 60_000).toISOString();
    const company = r.companyId ?? '';
    const key = `${minute}\u001f${r.job}\u001f${r.queue}\u001f${company}`;
    let row = rows.get(key);
    if (!row) {
      row = { minute, job: r.job, queue: r.queue, company_id: company, succeeded: 0, failed: 0, retried: 0, dead: 0, cancelled: 0, duration_ms_sum: 0, duration_hist: new Array<number>(DURATION_BUCKETS).fill(0) };
      rows.set(key, row);
    }
    switch (r.outcome) {
      case 'succeeded': row.succeeded++; break;
      case 'failed': row.failed++; break;
      case 'dead': row.dead++; break;
      case 'cancelled': row.cancelled++; break;
      default: row.retried++;
    }
    if (r.outcome !== 'lost') {
      row.duration_ms_sum += Math.round(r.durationMs);
      row.duration_hist[durationBucket(r.durationMs)]++;
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const COLUMNS = [
  'run_id', 'attempt', 'job', 'queue', 'company_id', 'outcome', 'final', 'failed', 'scheduled_for', 'enqueued_at',
  'started_at', 'finished_at', 'duration_ms', 'error', 'result', 'payload', 'schedule_id', 'parent_run_id', 'worker', 'stream_seq',
].join(', ');

/** COPY's text format: tab-separated, \N for null, backslash, tab, newline and carriage return escaped. */
function field(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}

function line(r: AttemptRecord): string {
  const final = FINAL_OUTCOMES.includes(r.outcome);
  const failed = FAILED_OUTCOMES.includes(r.outcome);
  return [
    field(r.runId), r.attempt, field(r.job), field(r.queue), field(r.companyId), r.outcome, final ? 't' : 'f', failed ? 't' : 'f',
    field(r.scheduledFor), field(r.enqueuedAt), r.startedAt.toISOString(), r.finishedAt.toISOString(), Math.round(r.durationMs),
    field(r.error), field(r.result), field(r.payload), field(r.scheduleId), field(r.parentRunId), field(r.worker), r.streamSeq ?? '\\N',
  ].join('\t');
}

/**
 * The planned runs a batch finishes or retries (job_runs, the latest attempt
 * per run): rows locked in id order, so concurrent batches wait instead of
 * deadlocking; a cancelled run stays cancelled unless this attempt is final; a
 * finished run and a stale attempt never overwrite a later outcome.
 */
const PLANNED = `
WITH l AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS l(run_id text, attempt int, outcome text, final boolean, started_at timestamptz,
                                                  finished_at timestamptz, enqueued_at timestamptz, error text, result jsonb)
), locked AS (
  SELECT r.id FROM job_runs r JOIN l ON l.run_id = r.id ORDER BY r.id FOR UPDATE OF r
)
UPDATE job_runs r
   SET state = l.outcome,
       attempts = greatest(r.attempts, l.attempt),
       started_at = l.started_at,
       published_at = coalesce(r.published_at, l.enqueued_at),
       finished_at = CASE WHEN l.final THEN l.finished_at ELSE NULL END,
       error = l.error,
       result = coalesce(l.result, r.result),
       progress = CASE WHEN l.outcome = 'succeeded' THEN 100 ELSE r.progress END,
       updated_at = now()
  FROM l, locked k
 WHERE r.id = l.run_id AND k.id = l.run_id
   AND NOT (r.state = 'cancelled' AND NOT l.final)
   AND r.state NOT IN ('succeeded', 'failed', 'dead')
   AND r.attempts <= l.attempt`;

/** The per-minute rollup, rows in key order (the same order every batch locks them in). */
const STATS = `
INSERT INTO job_stats_minute AS s (minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist)
SELECT minute, job, queue, company_id, succeeded, failed, retried, dead, cancelled, duration_ms_sum, duration_hist
  FROM jsonb_to_recordset($1::jsonb) AS x(minute timestamptz, job text, queue text, company_id text, succeeded int, failed int,
                                          retried int, dead int, cancelled int, duration_ms_sum bigint, duration_hist int[])
ON CONFLICT (minute, job, queue, company_id) DO UPDATE SET
  succeeded = s.succeeded + EXCLUDED.succeeded,
  failed = s.failed + EXCLUDED.failed,
  retried = s.retried + EXCLUDED.retried,
  dead = s.dead + EXCLUDED.dead,
  cancelled = s.cancelled + EXCLUDED.cancelled,
  duration_ms_sum = s.duration_ms_sum + EXCLUDED.duration_ms_sum,
  duration_hist = (SELECT array_agg(coalesce(a, 0) + coalesce(b, 0) ORDER BY i)
                     FROM unnest(s.duration_hist, EXCLUDED.duration_hist) WITH ORDINALITY AS h(a, b, i))`;

/** The latest attempt of each planned run in a batch (lost attempts do not change a run's state). */
function plannedUpdates(records: readonly AttemptRecord[]): unknown[] {
  const latest = new Map<string, AttemptRecord>();
  for (const r of records) {
    if (!r.planned || r.outcome === 'lost') continue;
    const seen = latest.get(r.runId);
    if (!seen || r.attempt >= seen.attempt) latest.set(r.runId, r);
  }
  return [...latest.values()].map((r) => ({
    run_id: r.runId, attempt: r.attempt, outcome: r.outcome, final: FINAL_OUTCOMES.includes(r.outcome),
    started_at: r.startedAt.toISOString(), finished_at: r.finishedAt.toISOString(), enqueued_at: iso(r.enqueuedAt), error: r.error, result: r.result ?? null,
  }));
}

/** The history writer's statements (job_attempts, planned job_runs, job_stats_minute). */
@Injectable()
export class HistoryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One transaction per batch: the attempts by COPY (the cheapest way into
   * Postgres: no per-row parse of a JSON document), the planned runs they
   * settle, and the per-minute rollup.
   */
  async write(records: readonly AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    if (!pool) throw new Error('the data source is not connected to Postgres');
    const client = await pool.connect();
    let broken: unknown;
    // A checked-out pg client has no error listener: a backend terminated mid-batch (failover, restart,
    // pg_terminate_backend) emits 'error' on it, which would crash the process. The failed statement rejects
    // on its own; the client is discarded on release.
    const onError = (e: unknown) => (broken = e);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const copy = client.query(copyFrom(`COPY job_attempts (${COLUMNS}) FROM STDIN`));
        await pipeline(Readable.from([records.map(line).join('\n') + '\n']), copy);
        const planned = plannedUpdates(records);
        if (planned.length) await client.query(PLANNED, [JSON.stringify(planned)]);
        const stats = rollup(records);
        if (stats.length) await client.query(STATS, [JSON.stringify(stats)]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch((r: unknown) => (broken = r));
        throw e;
      }
    } finally {
      client.removeListener('error', onError);
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : new Error(String(broken)));
    }
  }

  /** The latest attempt of a run (its tenant's, or any with scope null), or undefined when it has none. */
  async latest(runId: string, scope: string | null = null): Promise<{ outcome: string; attempt: number; final: boolean; companyId: string | null } | undefined> {
    const rows: { outcome: string; attempt: number; final: boolean; company_id: string | null }[] = await this.dataSource.query(
      `SELECT outcome, attempt, final, company_id FROM job_attempts WHERE run_id = $1 AND ($2::text IS NULL OR company_id = $2)
        ORDER BY attempt DESC, final DESC, finished_at DESC LIMIT 1`,
      [runId, scope],
    );
    const r = rows[0];
    return r ? { outcome: r.outcome, attempt: r.attempt, final: r.final, companyId: r.company_id } : undefined;
  }

  /** The run's final recorded outcome (succeeded, failed, dead, cancelled), or null while it has none. */
  async finalOutcome(runId: string): Promise<{ outcome: string; attempt: number } | null> {
    const rows: { outcome: string; attempt: number }[] = await this.dataSource.query(
      `SELECT outcome, attempt FROM job_attempts WHERE run_id = $1 AND final ORDER BY finished_at DESC LIMIT 1`,
      [runId],
    );
    return rows[0] ?? null;
  }

  /** Makes sure daily partitions exist from yesterday to PARTITION_DAYS_AHEAD days ahead; returns how many were made. */
  async ensurePartitions(now = new Date()): Promise<number> {
    const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
    const [row] = (await this.dataSource.query(`SELECT job_attempts_ensure_partitions($1::date, $2) AS made`, [day, PARTITION_DAYS_AHEAD + 2])) as { made: number }[];
    return row.made;
  }
}
