/** The longest a job consumer's pull request stays open at the server. */
export const MAX_PULL_EXPIRES_MS = 5_000;
/** nats.js refuses a pull that expires sooner. */
export const MIN_PULL_EXPIRES_MS = 1_000;

/**
 * How long each pull request of a consumer with this ack wait lives.
 *
 * A pull request outlives the process that sent it: after a SIGKILL the
 * server keeps it until it expires. nats-server 2.9 (fixed in 2.10.14,
 * nats-io/nats-server#5305 and #5338) mishandles a redelivery it tries to hand
 * to such a request: it finds no interest, drops the redelivery until the next
 * ack wait, and steps its delivery cursor back, so the message it delivered
 * last goes out again as a first delivery (delivery count 1, `redelivered`
 * false) — a run whose outcome is already recorded looks new and runs again,
 * and a job that kills its worker never counts up to maxAttempts.
 *
 * A dead worker's messages come back one ack wait after their last keep-alive
 * (the runtime renews every ack wait / 2), so at least ack wait / 2 after it
 * died; its requests are gone by then when they expire within a third of the
 * ack wait. Clamped to what nats.js accepts (so an ack wait under 3 s keeps a
 * narrower window rather than none) and to 5 s (pulling more often than that
 * buys nothing for a long ack wait).
 */
export function pullExpiresMs(ackWaitMs: number): number {
  return Math.min(MAX_PULL_EXPIRES_MS, Math.max(MIN_PULL_EXPIRES_MS, Math.floor(ackWaitMs / 3)));
}
