import type { CloudEvent } from '../../messaging/cloud-event.js';
import type { AttemptOutcome } from '../history/attempt-record.js';
import type { RunResult } from '../job.types.js';

export const JOB_SETTLEMENT_OBSERVERS = Symbol('JOB_SETTLEMENT_OBSERVERS');

/** One attempt's outcome, after its history row is committed and before its message is settled. */
export interface JobSettled {
  runId: string;
  job: string;
  companyId: string | null;
  outcome: AttemptOutcome;
  attempt: number;
  durationMs: number;
  /** When the handler returned (the history row was committed after it, the message is settled after this call). */
  finishedAt: Date;
  event: CloudEvent;
  result?: RunResult;
  error?: string;
}

/**
 * Sees every settled attempt (flows release their parents here; the bench counts completions). The message is
 * settled once the returned promise resolves; return nothing when there is nothing to wait for (most attempts):
 * every job of every burn-down goes through here.
 */
export interface JobSettlementObserver {
  onJobSettled(settled: JobSettled): Promise<void> | undefined;
}
