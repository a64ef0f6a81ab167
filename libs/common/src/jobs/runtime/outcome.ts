import type { RunResult } from '../job.types.js';

export type DeadReason = 'permanent_error' | 'invalid_payload' | 'attempts_exhausted' | 'malformed';

/** How an attempt ended, as the attempt runner hands it to settlement. */
export type Outcome =
  | { kind: 'succeeded'; result: RunResult }
  /** The handler returned status 'failure': the run ends failed, nothing retried. */
  | { kind: 'failed'; result: RunResult }
  | { kind: 'retry'; error: unknown; delayMs?: number }
  | { kind: 'dead'; error: unknown; reason: DeadReason }
  | { kind: 'cancelled'; error?: unknown }
  /** Come back after delayMs without using an attempt (SnoozeError). */
  | { kind: 'snooze'; delayMs: number };

export function normalizeResult(result: RunResult | void | undefined): RunResult {
  if (!result || typeof result !== 'object') return { status: 'success' };
  return { ...result, status: result.status ?? 'success' };
}
