import type { BackoffKind } from '../config/config.schema.js';

export interface BackoffPolicy {
  kind: BackoffKind;
  /** Delay before the second delivery. */
  baseMs: number;
  /** Upper bound of any delay. */
  capMs: number;
  /** 0..1: the share of the delay that is randomised (full jitter at 1). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 1_000, capMs: 5 * 60_000, jitter: 0.2 };

/**
 * Delay before redelivering after failed attempt number `attempt` (1-based).
 * Exponential doubles, linear adds the base, fixed stays; jitter only ever
 * shortens the delay so the cap holds.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, attempt);
  let delay: number;
  switch (policy.kind) {
    case 'exponential':
      delay = policy.baseMs * 2 ** Math.min(n - 1, 30);
      break;
    case 'linear':
      delay = policy.baseMs * n;
      break;
    case 'fixed':
      delay = policy.baseMs;
      break;
  }
  delay = Math.min(delay, policy.capMs);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  return Math.round(delay * (1 - jitter * random()));
}
