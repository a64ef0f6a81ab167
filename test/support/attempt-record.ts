import type { AttemptRecord } from '../../libs/common/src/index.js';

let seq = 0;

/** A finished attempt as the runtime hands it to the history writer: a success of `svc.work` for acme, 10 ms long, unless overridden. */
export function attemptRecord(finishedAt: Date | string, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  const end = new Date(finishedAt);
  const durationMs = overrides.durationMs ?? 10;
  seq++;
  return {
    runId: `run-${seq}`, attempt: 1, job: 'svc.work', queue: 'normal', companyId: 'acme', outcome: 'succeeded', scheduledFor: null,
    enqueuedAt: end, startedAt: new Date(end.getTime() - durationMs), finishedAt: end, durationMs, error: null, errorStack: null, result: null,
    payload: null, scheduleId: null, parentRunId: null, worker: 'w-1', streamSeq: seq, planned: false, maxAttempts: 3, ...overrides,
  };
}
