import type { BackoffPolicy } from '../../messaging/backoff.js';
import type { Priority } from '../../messaging/subjects.js';
import type { JobHandlerFn, JobHandlerOptions } from '../job-handler.decorator.js';

/**
 * Defaults of every job handler (the RTO seed: 3 attempts, exponential backoff
 * from 2 s: retries 2 s, then 4 s after the failures before them). Each job
 * overrides them in @JobHandler; a schedule or an enqueue per run.
 */
export const DEFAULT_JOB_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_JOB_MAX_ATTEMPTS = 3;
export const DEFAULT_JOB_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 2_000, capMs: 5 * 60_000, jitter: 0 };

/** One registered handler with its options resolved. */
export interface JobSpec {
  name: string;
  /** Where it was declared (Class.method), for start-up errors. */
  owner: string;
  fn: JobHandlerFn;
  priority: Priority;
  maxAttempts: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  /** 0: the runtime's slots. */
  concurrency: number;
  tenantConcurrency?: number;
  options: JobHandlerOptions;
}
