/**
 * Holds items delivered before their due instant and hands each group back
 * when it is due: one timer per distinct instant, so a thousand runs of one
 * second cost one timer and are released together.
 *
 * The scheduler publishes look-ahead claims as soon as they commit, up to
 * SCHEDULER_LOOKAHEAD_MS early; the job runtime holds them here. Transport
 * latency then falls before the due instant instead of after it.
 */
export class DueHold<T> {
  private readonly groups = new Map<number, { items: T[]; timer: NodeJS.Timeout }>();
  private count = 0;

  constructor(
    private readonly onDue: (items: T[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Items held right now. */
  get size(): number {
    return this.count;
  }

  hold(dueAt: number, item: T): void {
    const group = this.groups.get(dueAt);
    if (group) group.items.push(item);
    else this.groups.set(dueAt, { items: [item], timer: setTimeout(() => this.release(dueAt), Math.max(0, dueAt - this.now())) });
    this.count++;
  }

  /** Every item held, in no particular order (heartbeats). */
  *all(): IterableIterator<T> {
    for (const g of this.groups.values()) yield* g.items;
  }

  /** Stops every timer and returns what was held with its due instant (shutdown). */
  drain(): { dueAt: number; item: T }[] {
    const out: { dueAt: number; item: T }[] = [];
    for (const [dueAt, g] of this.groups) {
      clearTimeout(g.timer);
      for (const item of g.items) out.push({ dueAt, item });
    }
    this.groups.clear();
    this.count = 0;
    return out;
  }

  private release(dueAt: number): void {
    const group = this.groups.get(dueAt);
    if (!group) return;
    // Timers run on the event loop's monotonic clock, which can be a millisecond ahead of the wall clock.
    const early = dueAt - this.now();
    if (early > 0) {
      group.timer = setTimeout(() => this.release(dueAt), early);
      return;
    }
    this.groups.delete(dueAt);
    this.count -= group.items.length;
    this.onDue(group.items);
  }
}
