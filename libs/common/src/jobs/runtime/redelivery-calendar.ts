/**
 * One key's redeliveries by the second they come due, at most `perSecond` in
 * any second. A full second points at a later one that may have room, and the
 * pointers are shortened as they are followed, so placing the 100,000th
 * message of a flood costs about what placing the first did.
 */
export class RedeliveryCalendar {
  private readonly counts = new Map<number, number>();
  /** A full second → a later second to look at next. */
  private readonly skip = new Map<number, number>();
  private lastSecond = Number.NEGATIVE_INFINITY;
  private prunedTo = Number.NEGATIVE_INFINITY;

  constructor(private readonly perSecond: number) {}

  /** When the last placed redelivery comes due, at the latest (ms). */
  get lastDueMs(): number {
    return (this.lastSecond + 1) * 1000;
  }

  /**
   * The time (ms) the redelivery of a message that may come back from `earliestMs` on is placed at: `earliestMs`
   * itself while its second has room, else a random moment of the first later second that has.
   */
  place(earliestMs: number, random: () => number, nowMs: number): number {
    this.prune(Math.floor(nowMs / 1000));
    const wanted = Math.floor(earliestMs / 1000);
    const second = this.open(wanted);
    const n = (this.counts.get(second) ?? 0) + 1;
    this.counts.set(second, n);
    if (n >= this.perSecond) this.skip.set(second, second + 1);
    if (second > this.lastSecond) this.lastSecond = second;
    return second === wanted ? earliestMs : second * 1000 + Math.floor(random() * 1000);
  }

  /** The first second from `s` on with room, shortening the pointers followed. */
  private open(s: number): number {
    let root = s;
    for (let next = this.skip.get(root); next !== undefined; next = this.skip.get(root)) root = next;
    for (let at = s; at !== root; ) {
      const next = this.skip.get(at)!;
      this.skip.set(at, root);
      at = next;
    }
    return root;
  }

  /** Forgets the seconds gone by (at most once a second). */
  private prune(current: number): void {
    if (current <= this.prunedTo) return;
    this.prunedTo = current;
    for (const s of this.counts.keys()) if (s < current) this.counts.delete(s);
    for (const s of this.skip.keys()) if (s < current) this.skip.delete(s);
  }
}
