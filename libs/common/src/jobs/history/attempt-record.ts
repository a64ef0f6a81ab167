/**
 * How one attempt of a run ended, as job_attempts records it:
 * - succeeded, failed (the handler returned status 'failure'), dead, cancelled: the run ends here (final);
 * - retrying: the attempt failed and the run is retried with backoff;
 * - lost: a delivery that started and never reported (its worker died or stalled past the ack wait),
 *   seen when the message came back.
 */
export const ATTEMPT_OUTCOMES = ['succeeded', 'failed', 'retrying', 'dead', 'cancelled', 'lost'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export const FINAL_OUTCOMES: readonly AttemptOutcome[] = ['succeeded', 'failed', 'dead', 'cancelled'];
/** Attempts kept with the failure history (job_attempts_failed, 180 days by default). */
export const FAILED_OUTCOMES: readonly AttemptOutcome[] = ['failed', 'retrying', 'dead', 'lost'];

/** One row of job_attempts, as the worker hands it to the history writer. */
export interface AttemptRecord {
  runId: string;
  attempt: number;
  job: string;
  queue: string;
  companyId: string | null;
  outcome: AttemptOutcome;
  scheduledFor: Date | null;
  /** When JetStream stored the job message. */
  enqueuedAt: Date | null;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  error: string | null;
  /** A failed attempt's stack frames (errorStackOf), null otherwise. */
  errorStack: string | null;
  result: unknown;
  /** Kept for attempts that did not succeed, so a failed run can be read and retried after its message is gone. */
  payload: unknown;
  scheduleId: string | null;
  parentRunId: string | null;
  /** The worker instance that ran it. */
  worker: string;
  streamSeq: number | null;
  /** The run has a planned job_runs row (schedules, delays, keyed and transactional enqueues, flows): update it too. */
  planned: boolean;
  maxAttempts: number;
}
