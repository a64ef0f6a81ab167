import type { Priority } from '../../messaging/subjects.js';

/**
 * A full lane's reader resumes once this many places are free, not at the
 * first: waking it per finished job cost a promise, a timer and a lane check
 * per job in a burn-down. Lanes hold at least 512, so handlers never starve.
 */
export const ROOM_REFILL = 64;

/** How often a waiting reader looks again by itself (a wake can come from work that never calls `wake`). */
const RECHECK_MS = 50;

/**
 * The intake loops waiting for their priority's dispatcher lane to have
 * room. The runtime calls `wake` whenever the dispatcher hands out work; a
 * reader resumes once its lane has ROOM_REFILL free places, the runtime
 * stops, or its wait runs out.
 */
export class LaneRoom {
  private waiters: { priority: Priority; wake: () => void }[] = [];

  constructor(
    private readonly hasRoom: (priority: Priority, count: number) => boolean,
    private readonly stopping: () => boolean,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  /** undefined when the priority's lane has room for `count`; else resolves when it has ROOM_REFILL (or `count`) places, the runtime stops, or after `maxWaitMs`. */
  wait(priority: Priority, maxWaitMs: number, count = 1): Promise<void> | undefined {
    if (this.stopping() || this.hasRoom(priority, count)) return undefined;
    return this.waitFor(priority, maxWaitMs, Math.max(count, ROOM_REFILL));
  }

  /** Wakes the readers whose lane has refilled (all of them once the runtime stops); cheap when nobody waits. */
  wake(): void {
    if (!this.waiters.length) return;
    const stopping = this.stopping();
    let due = stopping;
    for (let i = 0; !due && i < this.waiters.length; i++) due = this.hasRoom(this.waiters[i].priority, ROOM_REFILL);
    if (!due) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (stopping || this.hasRoom(w.priority, ROOM_REFILL)) w.wake();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** `places`: a pack needs room for all its jobs, a single message for a refill's worth. */
  private async waitFor(priority: Priority, maxWaitMs: number, places: number): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    while (!this.stopping() && !this.hasRoom(priority, places) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        this.waiters.push({
          priority,
          wake: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    }
  }
}
