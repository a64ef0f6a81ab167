import { deferDelay } from '../defer-delay.js';
import { RedeliveryCalendar } from './redelivery-calendar.js';

/** Redeliveries per second per tenant that its deferred overflow is spread out to, at most. */
export const OVERFLOW_REDELIVERIES_PER_S = 1_000;
/** The longest extra spread: a backlog larger than this many seconds of redeliveries still comes back within it. */
const MAX_SPREAD_MS = 15 * 60_000;
/** How often keys whose redeliveries have all come due are dropped (when another key starts). */
const SWEEP_MS = 30_000;

/**
 * The delay for a message handed back because there is no room for it here:
 * its tenant's buffer is full (keyed by tenant, base `deferDelay`), or its job
 * is paused and the parking is full (keyed by job, base the paused recheck).
 *
 * nats-server delivers due redeliveries before new messages, so a key's
 * redeliveries must not come due faster than the intake can hand them back,
 * or another tenant's new job queues behind them. With the plain deferral
 * delay (5–15 s the first time) a backlog of 100,000 came back within ten
 * seconds, 10,000 redeliveries a second (scenario 10 of the fault suite: 1.1–1.2 s
 * instead of about one handler duration). A random stretch by the key's recent
 * overflow count still peaked at ≈ 2,000 a second for the first half minute,
 * above what a worker on a busy 2-CPU host hands back, and one run of the full
 * fault suite saw a new tenant's job wait over 30 s. Each key now has a
 * calendar: a message is due at its plain delay when that second has fewer
 * than OVERFLOW_REDELIVERIES_PER_S of the key's redeliveries, else in the
 * first later second that has room. A paused job's backlog beyond the parking
 * is spread the same way (it was re-deferred every JOB_PAUSED_RECHECK_MS:
 * 30,000 messages made 26,743–31,989 deferrals a second and another job's first
 * start waited 14–15 s, scenario 15).
 */
export class OverflowSpread {
  private readonly calendars = new Map<string, RedeliveryCalendar>();
  private sweptAt = 0;

  constructor(
    private readonly random: () => number = Math.random,
    /** The delay a key that overflows once gets, before any spread. */
    private readonly base: (deliveryCount: number, random: () => number) => number = deferDelay,
  ) {}

  delayFor(key: string, deliveryCount: number, now = Date.now()): number {
    let calendar = this.calendars.get(key);
    if (!calendar) {
      this.forgetQuiet(now);
      calendar = new RedeliveryCalendar(OVERFLOW_REDELIVERIES_PER_S);
      this.calendars.set(key, calendar);
    }
    const earliest = now + this.base(deliveryCount, this.random);
    const at = calendar.place(earliest, this.random, now);
    // Past the longest spread the rate gives way: the message still comes back within it.
    if (at - earliest > MAX_SPREAD_MS) return earliest - now + Math.round(this.random() * MAX_SPREAD_MS);
    return at - now;
  }

  /** Keys tracked (one whose redeliveries have all come due is dropped by a sweep, at most one per SWEEP_MS, when another one starts). */
  get size(): number {
    return this.calendars.size;
  }

  private forgetQuiet(now: number): void {
    if (now - this.sweptAt < SWEEP_MS) return;
    this.sweptAt = now;
    for (const [key, calendar] of this.calendars) {
      if (calendar.lastDueMs <= now) this.calendars.delete(key);
    }
  }
}
