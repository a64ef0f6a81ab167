import { outsideAmbient } from '../audit/ambient-transaction.js';

/** Where an item's result goes: a promise's resolving functions, or an object of the caller's (no promise made). */
export interface Completion<R> {
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Groups writes from concurrent callers into batches, up to `inFlight`
 * batches being written at once: while one batch waits for its commit the
 * next fills and goes out, instead of every caller queueing behind a serial
 * chain. Each caller is told its own item's result.
 */
export class OverlappingBatcher<T, R> {
  private queue: { item: T; urgent: boolean; then: Completion<R> }[] = [];
  private timer?: NodeJS.Timeout;
  private running = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    /** One result per item, in order; an Error rejects that item alone. */
    private readonly write: (items: T[]) => Promise<(R | Error)[]>,
    private readonly options: {
      maxItems: number;
      maxDelayMs: number;
      inFlight: number;
      key?: (item: T) => string;
      /** A caller's completion threw (a bug of the caller's): told here; without this it is rethrown, a rejected promise. */
      completionFailed?: (error: unknown) => void;
    },
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /**
   * `urgent`: something waits on this item (a retry about to start): it does not wait for the window's end. With
   * nothing being written it goes at once; otherwise with the batch that goes when a write returns. Sending it
   * alone beside a write in flight made most batches of a busy worker one row long (2026-12-06 burn-down: 60 %
   * of batches, each a round trip and a transaction), while waiting costs it at most one write.
   */
  add(item: T, urgent = false): Promise<R> {
    return new Promise<R>((resolve, reject) => this.addThen(item, urgent, { resolve, reject }));
  }

  /** As `add`, the result going to `then` instead of a promise. */
  addThen(item: T, urgent: boolean, then: Completion<R>): void {
    this.queue.push({ item, urgent, then });
    // A batch of many callers' items is never written inside one caller's audited transaction.
    if (this.queue.length >= this.options.maxItems || (urgent && this.running === 0)) outsideAmbient(() => this.kick());
    else if (!this.timer) outsideAmbient(() => (this.timer ??= setTimeout(() => this.kick(), this.options.maxDelayMs)));
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // All slots busy: the queue keeps filling and goes out when one frees.
    while (this.queue.length && this.running < this.options.inFlight) this.send();
  }

  private send(): void {
    let batch = this.queue.splice(0, this.options.maxItems);
    const key = this.options.key;
    if (key) {
      // One statement cannot touch a row twice: a second item for the same row waits for the next batch.
      const seen = new Set<string>();
      const later: typeof batch = [];
      batch = batch.filter((p) => {
        const k = key(p.item);
        if (seen.has(k)) {
          later.push(p);
          return false;
        }
        seen.add(k);
        return true;
      });
      if (later.length) this.queue.unshift(...later);
    }
    this.running++;
    void this.write(batch.map((p) => p.item))
      .then(
        (results) => this.tell(batch, (then, i) => {
          const r = results[i];
          if (r instanceof Error) then.reject(r);
          else then.resolve(r as R);
        }),
        (e: unknown) => this.tell(batch, (then) => then.reject(e)),
      )
      .finally(() => {
        this.running--;
        if (this.queue.length) {
          // A full batch goes at once, and so does one holding an urgent item that came while a batch was being written;
          // any other partial one rides the batching window again.
          if (this.queue.length >= this.options.maxItems || this.queue.some((p) => p.urgent)) this.kick();
          else this.timer ??= setTimeout(() => this.kick(), this.options.maxDelayMs);
        } else if (this.running === 0) for (const wake of this.idle.splice(0)) wake();
      });
  }

  /** Tells each item of a batch its result; one whose completion throws keeps no other from its own. */
  private tell(batch: { then: Completion<R> }[], each: (then: Completion<R>, i: number) => void): void {
    let thrown: { error: unknown } | undefined;
    for (let i = 0; i < batch.length; i++) {
      try {
        each(batch[i].then, i);
      } catch (error) {
        thrown ??= { error };
      }
    }
    if (!thrown) return;
    if (!this.options.completionFailed) throw thrown.error;
    this.options.completionFailed(thrown.error);
  }

  /** Writes everything queued so far and resolves once nothing is in flight. */
  async flush(): Promise<void> {
    while (this.queue.length || this.running) {
      this.kick();
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
  }
}
