import type { Delivery } from './delivery.js';

/**
 * Deliveries of a paused job or priority, kept in memory (their ack wait
 * renewed with the rest) so a resume runs them at once, up to `capacity`;
 * beyond that the caller hands them back to the stream for a later look.
 */
export class PausedParking {
  private parked: Delivery[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.parked.length;
  }

  /** False when full: defer it instead. */
  park(d: Delivery): boolean {
    if (this.parked.length >= this.capacity) return false;
    this.parked.push(d);
    return true;
  }

  /** Takes out every parked delivery the predicate selects (those no longer paused, or all at shutdown). */
  release(predicate: (d: Delivery) => boolean): Delivery[] {
    const out: Delivery[] = [];
    const keep: Delivery[] = [];
    for (const d of this.parked) (predicate(d) ? out : keep).push(d);
    this.parked = keep;
    return out;
  }

  all(): readonly Delivery[] {
    return this.parked;
  }
}
