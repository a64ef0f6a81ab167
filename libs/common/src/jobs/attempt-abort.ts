/**
 * The abort side of one running attempt (timeout, operator cancel). Most
 * handlers never read their signal, so its AbortController is made only when
 * one does; the attempt races its abort through one promise rather than an
 * abort listener and a Promise.race per run (about a tenth of the worker's
 * allocation per job in the bench).
 */
export class AttemptAbort {
  private controller?: AbortController;
  private abortReason: unknown;
  private isAborted = false;
  private rejectAttempt?: (reason: unknown) => void;

  /** The handler's signal, aborted already if the attempt was. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.isAborted && !this.controller.signal.aborted) this.controller.abort(this.abortReason);
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  /** Aborts once: later calls keep the first reason. */
  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.rejectAttempt?.(reason);
  }

  /**
   * Settles as `work` does, or rejects with the reason as soon as the attempt
   * is aborted. `work` is always observed, so a handler that ignores its signal
   * and fails after the abort is no unhandled rejection.
   */
  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      work.then(resolve, reject);
      if (this.isAborted) reject(this.abortReason);
      else this.rejectAttempt = reject;
    });
  }
}
