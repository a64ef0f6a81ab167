import { outsideAmbient } from '../audit/ambient-transaction.js';

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Groups writes from concurrent callers into one flush. Each caller awaits its
 * own item's flush, so "ack only after the write committed" still holds while
 * the database sees one statement per batch instead of one per message.
 */
export class Batcher<T> {
  private queue: Pending<T>[] = [];
  private timer?: NodeJS.Timeout;
  private flushing = Promise.resolve();

  constructor(
    private readonly flushFn: (items: T[]) => Promise<void>,
    private readonly options: { maxItems: number; maxDelayMs: number },
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // A batch of many callers' items is never written inside one caller's audited transaction.
      outsideAmbient(() => (this.queue.length >= this.options.maxItems ? this.flushSoon(0) : this.flushSoon(this.options.maxDelayMs)));
    });
  }

  private flushSoon(delay: number): void {
    if (delay === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Writes everything queued so far; batches run one after another. */
  flush(): Promise<void> {
    return outsideAmbient(() => this.flushNow());
  }

  private flushNow(): Promise<void> {
    const batch = this.queue;
    if (batch.length === 0) return this.flushing;
    this.queue = [];
    this.flushing = this.flushing.then(async () => {
      try {
        await this.flushFn(batch.map((p) => p.item));
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    });
    return this.flushing;
  }
}
