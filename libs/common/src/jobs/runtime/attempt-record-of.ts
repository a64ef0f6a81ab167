import type { AttemptOutcome, AttemptRecord } from '../history/attempt-record.js';
import type { RunResult } from '../job.types.js';
import type { Delivery } from './delivery.js';
import type { Outcome } from './outcome.js';

/** The history row of one attempt of a delivery, run by `worker`. */
export function attemptRecordOf(
  d: Delivery, worker: string, attempt: number, outcome: AttemptOutcome, startedAt: Date, finishedAt: Date, durationMs: number,
  error: string | null, errorStack: string | null, result: unknown,
): AttemptRecord {
  const info = d.msg.info;
  return {
    runId: d.event.id,
    attempt,
    job: d.spec.name,
    queue: d.priority,
    companyId: d.parts.companyId ?? null,
    outcome,
    scheduledFor: d.parts.scheduledFor ?? null,
    enqueuedAt: new Date(info.timestampNanos / 1e6),
    startedAt,
    finishedAt,
    durationMs,
    error,
    errorStack,
    result: result ?? null,
    payload: outcome === 'succeeded' || outcome === 'cancelled' ? null : d.parts.payload,
    scheduleId: d.parts.scheduleId ?? null,
    parentRunId: d.parts.parentRunId ?? null,
    worker,
    streamSeq: info.streamSequence,
    planned: d.parts.planned,
    maxAttempts: d.maxAttempts,
  };
}

/** The history outcome of a handler's outcome. */
export function stateOf(outcome: Exclude<Outcome, { kind: 'snooze' }>): AttemptOutcome {
  switch (outcome.kind) {
    case 'retry': return 'retrying';
    default: return outcome.kind;
  }
}

/** What history keeps of a handler's result. */
export function storedResult(result: RunResult, durationMs: number): unknown {
  return {
    status: result.status,
    durationMs: Math.round(durationMs),
    recordsProcessed: result.recordsProcessed,
    message: result.message,
    data: result.data,
  };
}
