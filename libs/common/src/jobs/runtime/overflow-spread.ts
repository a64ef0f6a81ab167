import { deferDelay } from '../defer-delay.js';

/** Redeliveries per second per tenant that its deferred overflow is spread out to, at most. */
export const OVERFLOW_REDELIVERIES_PER_S = 1_000;
/** How fast a tenant's recent overflow is forgotten (its count decays by e every this long). */
const DECAY_MS = 30_000;
/** The longest extra spread: a backlog larger than this many seconds of redeliveries still comes back within it. */
const MAX_SPREAD_MS = 15 * 60_000;

interface Recent {
  count: number;
  at: number;
}

/** A tenant's overflow count as it stands at `now`, decayed since it was last counted. */
const decayed = (r: Recent, now: number): number => r.count * Math.exp(-(now - r.at) / DECAY_MS);

/**
 * The delay for a message handed back because there is no room for it here:
 * its tenant's buffer is full (keyed by tenant, base `deferDelay`), or its job
 * is paused and the parking is full (keyed by job, base the paused recheck).
 *
 * nats-server delivers due redeliveries before new messages. When one tenant
 * floods a queue, every message beyond its buffer is deferred; with the plain
 * deferral delay (5–15 s the first time) a backlog of 100,000 came back within
 * ten seconds, 10,000 redeliveries a second: more than the worker could hand
 * back again, so another tenant's new job queued behind the wave (scenario 10
 * of the fault suite: 1.1–1.2 s instead of about one handler duration, and
 * 114,000–165,000 deferrals while the backlog was read once). The tenant's
 * recent overflow in this process (a count decaying over 30 s) stretches its
 * deferrals over a further `count / OVERFLOW_REDELIVERIES_PER_S` seconds, so
 * its redeliveries stay near that rate: far more than the tenant can run (it
 * only has its buffer's worth of room), and few enough that the intake drains
 * them as they come. A paused job's backlog beyond the parking was re-deferred
 * every JOB_PAUSED_RECHECK_MS the same way: 30,000 of them made 26,743–31,989
 * deferrals a second for as long as the pause lasted and another job's first
 * start waited 14–15 s (scenario 15); spread, 1,676–1,700 a second.
 */
export class OverflowSpread {
  private readonly recent = new Map<string, Recent>();
  private sweptAt = 0;

  constructor(
    private readonly random: () => number = Math.random,
    /** The delay a key that overflows once gets, before any spread. */
    private readonly base: (deliveryCount: number, random: () => number) => number = deferDelay,
  ) {}

  delayFor(key: string, deliveryCount: number, now = Date.now()): number {
    const r = this.recent.get(key);
    const count = (r ? decayed(r, now) : 0) + 1;
    if (r) {
      r.count = count;
      r.at = now;
    } else {
      this.forgetQuiet(now);
      this.recent.set(key, { count, at: now });
    }
    const spread = Math.min(MAX_SPREAD_MS, (count / OVERFLOW_REDELIVERIES_PER_S) * 1000);
    return this.base(deliveryCount, this.random) + Math.round(this.random() * spread);
  }

  /** Keys tracked (one whose overflow has decayed is dropped by a sweep, at most one per decay period, when another one starts). */
  get size(): number {
    return this.recent.size;
  }

  private forgetQuiet(now: number): void {
    if (now - this.sweptAt < DECAY_MS) return;
    this.sweptAt = now;
    for (const [key, r] of this.recent) {
      if (decayed(r, now) < 1) this.recent.delete(key);
    }
  }
}
