import type { Schedule } from './schedule.types.js';

/** The job options a schedule gives each of its runs. */
export function runOptions(s: Schedule) {
  return {
    priority: s.options.priority,
    maxAttempts: s.options.maxAttempts,
    backoff: s.options.backoff ?? undefined,
    timeoutMs: s.options.timeoutMs ?? undefined,
    concurrency: s.options.concurrency ?? undefined,
  };
}
