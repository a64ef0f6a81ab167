import { FAILED_OUTCOMES, FINAL_OUTCOMES, type AttemptRecord } from './attempt-record.js';
import type { CopyText } from './copy-text.js';
import { storableJson } from './storable-json.js';

/** job_attempts' columns as the history writer fills them, in copyRow's order. */
const COLUMNS = [
  'run_id', 'attempt', 'job', 'queue', 'company_id', 'outcome', 'final', 'failed', 'scheduled_for', 'enqueued_at', 'started_at',
  'finished_at', 'duration_ms', 'error', 'result', 'payload', 'schedule_id', 'parent_run_id', 'worker', 'stream_seq', 'error_stack',
  'max_attempts',
].join(', ');

export const COPY_ATTEMPTS = `COPY job_attempts (${COLUMNS}, batch_id) FROM STDIN`;

/**
 * The longest result a run history row keeps, in characters of JSON (about 1 MB): a larger one is stored as
 * null (HistoryWriter). A handler returning a huge value by mistake would otherwise hold it, in every
 * batch try and in Postgres, for as long as the history is kept; Temporal refuses payloads over 2 MB.
 */
export const MAX_RESULT_JSON_CHARS = 1_000_000;

/** One attempt as a row of COPY text, in COLUMNS order, then its batch's id. */
export function copyRow(out: CopyText, r: AttemptRecord, batchId: string): void {
  out.text(r.runId);
  out.int(r.attempt);
  out.text(r.job);
  out.text(r.queue);
  out.text(r.companyId);
  out.text(r.outcome);
  out.bool(FINAL_OUTCOMES.includes(r.outcome));
  out.bool(FAILED_OUTCOMES.includes(r.outcome));
  out.time(r.scheduledFor);
  out.time(r.enqueuedAt);
  out.time(r.startedAt);
  out.time(r.finishedAt);
  out.int(Math.round(r.durationMs));
  out.text(r.error);
  out.json(r.result, MAX_RESULT_JSON_CHARS);
  out.json(r.payload);
  out.text(r.scheduleId);
  out.text(r.parentRunId);
  out.text(r.worker);
  out.int(r.streamSeq);
  out.text(r.errorStack);
  out.int(r.maxAttempts);
  out.text(batchId);
  out.end();
}

/** The planned runs' new state, one JSON object per run (PLANNED_ROWS). */
const PLANNED_ROWS = `SELECT * FROM jsonb_to_recordset($$::jsonb) AS l(run_id text, attempt int, outcome text, final boolean, started_at timestamptz,
                                                  finished_at timestamptz, enqueued_at timestamptz, error text, result jsonb)`;

/**
 * The planned runs a batch finishes or retries (job_runs, the latest attempt
 * per run): rows locked in id order, so concurrent batches wait instead of
 * deadlocking; a cancelled run stays cancelled unless this attempt is final; a
 * finished run and a stale attempt never overwrite a later outcome.
 */
const PLANNED_LOCK = `SELECT r.id FROM job_runs r JOIN l ON l.run_id = r.id ORDER BY r.id FOR UPDATE OF r`;
const PLANNED_UPDATE = `
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

/**
 * The batch's marker: job_stats_minute is rolled up from the attempts of
 * marked batches later (the scheduler's JobStatsRoller), and the job_stats
 * view counts a marked batch's attempts until then. Writing the rollup here
 * cost Postgres about 13 µs per attempt in a burn-down (2026-12-05), a third
 * of its share; the marker is one row per batch. Parameters: the first and
 * last finished_at of the batch's attempts (the roller finds them by that
 * range and batch_id) and their number.
 */
const MARKER_INSERT = `INSERT INTO job_history_batches (id, first_finished, last_finished, attempts) VALUES`;

/**
 * A batch by COPY as one simple query (CopyBatchQuery: one implicit
 * transaction, one round trip): the attempts (COPY_ATTEMPTS, each line ending
 * with `id`), the marker and, when there are any, the planned runs. A simple
 * query takes no parameters: `literal` quotes the values (pg's escapeLiteral).
 */
export function copyBatchStatement(id: string, span: [string, string, number], planned: unknown[], literal: (s: string) => string): string {
  if (!/^\d+$/.test(id)) throw new Error(`a batch id is a number, not ${JSON.stringify(id)}`);
  const marker = `${MARKER_INSERT} (${id}, ${literal(span[0])}, ${literal(span[1])}, ${Math.trunc(span[2])})`;
  const statements = [COPY_ATTEMPTS, marker];
  if (planned.length) {
    const rows = literal(storableJson(planned));
    statements.push(`WITH l AS (${PLANNED_ROWS.replace('$$', () => rows)}), locked AS (${PLANNED_LOCK}) ${PLANNED_UPDATE}`);
  }
  return statements.join(';\n');
}

/** The marker's parameters after the id: first and last finished_at (ISO) and the number of attempts. */
export function markerSpan(records: readonly AttemptRecord[]): [string, string, number] {
  let first = records[0].finishedAt.getTime();
  let last = first;
  for (const r of records) {
    const t = r.finishedAt.getTime();
    if (t < first) first = t;
    else if (t > last) last = t;
  }
  return [new Date(first).toISOString(), new Date(last).toISOString(), records.length];
}

/** The latest attempt of each planned run in a batch (lost attempts do not change a run's state). */
export function plannedUpdates(records: readonly AttemptRecord[]): unknown[] {
  const latest = new Map<string, AttemptRecord>();
  for (const r of records) {
    if (!r.planned || r.outcome === 'lost') continue;
    const seen = latest.get(r.runId);
    if (!seen || r.attempt >= seen.attempt) latest.set(r.runId, r);
  }
  return [...latest.values()].map((r) => ({
    run_id: r.runId, attempt: r.attempt, outcome: r.outcome, final: FINAL_OUTCOMES.includes(r.outcome),
    started_at: r.startedAt.toISOString(), finished_at: r.finishedAt.toISOString(), enqueued_at: r.enqueuedAt?.toISOString() ?? null, error: r.error, result: r.result ?? null,
  }));
}
