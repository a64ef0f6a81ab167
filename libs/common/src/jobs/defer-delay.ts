/**
 * A deferral: the message comes back later without counting an attempt (attempts are counted in job_runs).
 * 10, 20, 40, 60 s, each spread over half to one and a half of itself: a big backlog is re-read about once a
 * minute, not in a tight loop that would hold new messages back (nats-server delivers due redeliveries before
 * new messages), and a burst deferred at one moment (the redeliveries after a failover) comes back spread out
 * instead of overflowing the tenant's buffer again all at once.
 */
export function deferDelay(deliveryCount: number, random: () => number = Math.random): number {
  const base = Math.min(60_000, 10_000 * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 3));
  return Math.round(base * (0.5 + random()));
}
