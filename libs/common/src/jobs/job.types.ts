import type { BackoffPolicy } from '../messaging/backoff.js';
import type { Priority } from '../messaging/subjects.js';

/** Every state a run passes through; stored in job_runs.state. */
export const RUN_STATES = ['scheduled', 'queued', 'running', 'succeeded', 'failed', 'retrying', 'dead', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const TERMINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'dead', 'cancelled'];

/** Per-job options; a schedule or an enqueue may override them. */
export interface JobOptions {
  priority: Priority;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Handler timeout; its AbortSignal fires then and the attempt fails as retryable. */
  timeoutMs: number;
  /** Handlers of this job running at once in one process. */
  concurrency: number;
}

export type RunResultStatus = 'success' | 'failure' | 'partial';

/** What a handler returns; stored in job_runs.result. */
export interface RunResult {
  status: RunResultStatus;
  recordsProcessed?: number;
  message?: string;
  data?: unknown;
}

/**
 * The body of every job message (CloudEvent data). The CloudEvent id is the run
 * id and its `type` the job name.
 */
export interface JobMessage<P = unknown> {
  runId: string;
  companyId?: string;
  payload: P;
  scheduledFor: string;
  scheduleId?: string;
  /** The run has a planned job_runs row (it went through the outbox): its outcome is written there too. */
  planned?: true;
  /** Overrides of the handler's options for this run. */
  maxAttempts?: number;
  options?: Partial<JobOptions>;
  /** Flows: the parent run this one is a child of, and whether this run is a parent. */
  parentRunId?: string;
  flow?: true;
  /**
   * A job handed off alone from a pack: attempts it had used, when it may run, whether a redelivered pack handed
   * it off, and whether its last attempt was cut short in the pack (recorded lost when this copy runs).
   */
  attemptOffset?: number;
  notBefore?: string;
  rehanded?: true;
  lostInPack?: true;
}
