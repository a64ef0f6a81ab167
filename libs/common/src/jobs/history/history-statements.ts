import { isoTime } from '../../util/iso-time.js';
import { FAILED_OUTCOMES, FINAL_OUTCOMES, type AttemptRecord } from './attempt-record.js';

/** job_attempts' columns as the history writer fills them, with their types for jsonb_to_recordset. */
const ATTEMPT_COLUMNS: readonly (readonly [string, string])[] = [
  ['run_id', 'text'], ['attempt', 'int'], ['job', 'text'], ['queue', 'text'], ['company_id', 'text'], ['outcome', 'text'],
  ['final', 'boolean'], ['failed', 'boolean'], ['scheduled_for', 'timestamptz'], ['enqueued_at', 'timestamptz'],
  ['started_at', 'timestamptz'], ['finished_at', 'timestamptz'], ['duration_ms', 'int'], ['error', 'text'], ['result', 'jsonb'],
  ['payload', 'jsonb'], ['schedule_id', 'text'], ['parent_run_id', 'text'], ['worker', 'text'], ['stream_seq', 'bigint'],
  ['error_stack', 'text'], ['max_attempts', 'int'],
];
const COLUMNS = ATTEMPT_COLUMNS.map(([name]) => name).join(', ');

export const COPY_ATTEMPTS = `COPY job_attempts (${COLUMNS}, batch_id) FROM STDIN`;

/** COPY's text format: tab-separated, \N for null, backslash, tab, newline and carriage return escaped. */
function field(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : v instanceof Date ? isoTime(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return escaped(s);
}

/** A jsonb column's COPY text: the value as JSON, a string too (a bare string is not valid JSON text). */
function jsonField(v: unknown): string {
  return v === null || v === undefined ? '\\N' : escaped(JSON.stringify(v));
}

function escaped(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}

/** One attempt as a line of COPY text, in ATTEMPT_COLUMNS order, then its batch's id. */
export function copyLine(r: AttemptRecord, batchId: string): string {
  return [
    field(r.runId), r.attempt, field(r.job), field(r.queue), field(r.companyId), r.outcome,
    FINAL_OUTCOMES.includes(r.outcome) ? 't' : 'f', FAILED_OUTCOMES.includes(r.outcome) ? 't' : 'f',
    field(r.scheduledFor), field(r.enqueuedAt), isoTime(r.startedAt), isoTime(r.finishedAt), Math.round(r.durationMs),
    field(r.error), jsonField(r.result), jsonField(r.payload), field(r.scheduleId), field(r.parentRunId), field(r.worker), r.streamSeq ?? '\\N',
    field(r.errorStack), r.maxAttempts ?? '\\N', batchId,
  ].join('\t');
}

const iso = (d: Date | null): string | null => (d ? isoTime(d) : null);

/** One attempt as an array in ATTEMPT_COLUMNS order, dates as ISO strings. */
export function jsonRow(r: AttemptRecord): unknown[] {
  return [
    r.runId, r.attempt, r.job, r.queue, r.companyId, r.outcome, FINAL_OUTCOMES.includes(r.outcome), FAILED_OUTCOMES.includes(r.outcome),
    iso(r.scheduledFor), iso(r.enqueuedAt), isoTime(r.startedAt), isoTime(r.finishedAt), Math.round(r.durationMs),
    r.error, r.result ?? null, r.payload ?? null, r.scheduleId, r.parentRunId, r.worker, r.streamSeq,
    r.errorStack ?? null, r.maxAttempts ?? null,
  ];
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

const param = (sql: string, n: number) => sql.replace('$$', `$${n}`);

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
    const rows = literal(JSON.stringify(planned));
    statements.push(`WITH l AS (${PLANNED_ROWS.replace('$$', () => rows)}), locked AS (${PLANNED_LOCK}) ${PLANNED_UPDATE}`);
  }
  return statements.join(';\n');
}

/**
 * A small batch in one statement (one round trip, one implicit transaction):
 * the marker ($5 the batch id, $2 first and $3 last finished_at, $4 attempts),
 * the attempts ($1, arrays in ATTEMPT_COLUMNS order, each with the batch id)
 * and, in the planned form, the planned runs ($6). Data-modifying CTEs run to
 * completion whether or not the main query reads them.
 */
function oneStatement(planned: boolean): string {
  const values = ATTEMPT_COLUMNS.map(([, type], i) => (type === 'jsonb' ? `nullif(x->${i}, 'null'::jsonb)` : `(x->>${i})::${type}`)).join(', ');
  const marker = `m AS (${MARKER_INSERT} ($5::bigint, $2, $3, $4))`;
  const attempts = `a AS (INSERT INTO job_attempts (${COLUMNS}, batch_id) SELECT ${values}, $5::bigint FROM jsonb_array_elements($1::jsonb) AS x)`;
  if (!planned) return `WITH ${marker}, ${attempts} SELECT 1`;
  return `WITH ${marker}, ${attempts}, l AS (${param(PLANNED_ROWS, 6)}), locked AS (${PLANNED_LOCK}), p AS (${PLANNED_UPDATE}) SELECT 1`;
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

export const ONE_STATEMENT = { name: 'metronome-history-batch', text: oneStatement(false) };
export const ONE_STATEMENT_PLANNED = { name: 'metronome-history-batch-planned', text: oneStatement(true) };

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
    started_at: isoTime(r.startedAt), finished_at: isoTime(r.finishedAt), enqueued_at: iso(r.enqueuedAt), error: r.error, result: r.result ?? null,
  }));
}
