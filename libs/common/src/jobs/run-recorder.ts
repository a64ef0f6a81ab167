import { Injectable } from '@nestjs/common';
import { Batcher } from '../util/batcher.js';
import { JobRunsRepository, type RunProgress, type RunSettlement, type RunStart, type StartedRun, type StoredRun } from './job-runs.repository.js';

/** Batches one stream of writes may have in flight at once (each holds one pool connection for one statement). */
export const RECORDER_FLUSHES_IN_FLIGHT = 4;

/**
 * Groups writes from concurrent callers into batches, up to `inFlight`
 * batches being written at once: while one batch waits for its commit the
 * next fills and goes out, instead of every caller queueing behind a serial
 * chain. Each caller still awaits its own item's commit. Rows are written in
 * id order by every job_runs statement, so overlapping batches that share a
 * row wait for each other rather than deadlock.
 */
class OverlappingBatcher<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private running = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    /** One result per item, in order; an Error rejects that item alone. */
    private readonly write: (items: T[]) => Promise<(R | Error)[]>,
    private readonly options: { maxItems: number; maxDelayMs: number; inFlight: number; key?: (item: T) => string },
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxItems) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.options.maxDelayMs);
    });
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
        (results) => {
          for (let i = 0; i < batch.length; i++) {
            const r = results[i];
            if (r instanceof Error) batch[i].reject(r);
            else batch[i].resolve(r as R);
          }
        },
        (e: unknown) => {
          for (const p of batch) p.reject(e);
        },
      )
      .finally(() => {
        this.running--;
        if (this.queue.length) {
          // A full batch goes at once; a partial one rides the batching window again.
          if (this.queue.length >= this.options.maxItems) this.kick();
          else this.timer ??= setTimeout(() => this.kick(), this.options.maxDelayMs);
        } else if (this.running === 0) for (const wake of this.idle.splice(0)) wake();
      });
  }

  /** Writes everything queued so far and resolves once nothing is in flight. */
  async flush(): Promise<void> {
    while (this.queue.length || this.running) {
      this.kick();
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
  }
}

/**
 * Batches the runtime's job_runs writes: starts (one upsert per batch, awaited
 * before the handler runs so the attempt is counted first), settlements (one
 * multi-row UPDATE per batch, awaited before the ack) and progress (latest
 * report per run, one UPDATE per batch). Start and settlement batches overlap
 * (up to RECORDER_FLUSHES_IN_FLIGHT each), so a job's wait is one batching
 * window plus one commit, not the commits of every batch queued before it.
 */
@Injectable()
export class RunRecorder {
  private readonly starts: OverlappingBatcher<RunStart, StartedRun>;
  private readonly settlements: OverlappingBatcher<RunSettlement, void>;
  private readonly progressReports: Batcher<RunProgress>;
  private readonly peeks: OverlappingBatcher<string, StoredRun | undefined>;
  /** Start writes of runs already running (startBehind), by run id. */
  private readonly pendingStarts = new Map<string, Promise<void>>();

  constructor(private readonly runs: JobRunsRepository) {
    this.peeks = new OverlappingBatcher(
      async (ids) => {
        const rows = new Map((await this.runs.peek(ids)).map((r) => [r.id, r]));
        return ids.map((id) => rows.get(id));
      },
      { maxItems: 1_000, maxDelayMs: 5, inFlight: 2 },
    );
    this.starts = new OverlappingBatcher(
      async (batch) => {
        const rows = new Map((await this.runs.start(batch)).map((r) => [r.id, r]));
        return batch.map((run) => {
          const row = rows.get(run.id);
          return row ?? new Error(`run ${run.id} was not recorded`);
        });
      },
      { maxItems: 500, maxDelayMs: 2, inFlight: RECORDER_FLUSHES_IN_FLIGHT, key: (r) => r.id },
    );
    this.settlements = new OverlappingBatcher<RunSettlement, void>(
      async (batch) => {
        await this.runs.settle(batch);
        return batch.map(() => undefined);
      },
      { maxItems: 500, maxDelayMs: 5, inFlight: RECORDER_FLUSHES_IN_FLIGHT, key: (s) => s.id },
    );
    this.progressReports = new Batcher((items) => {
      const latest = new Map<string, RunProgress>();
      for (const i of items) latest.set(i.id, i);
      return this.runs.progress([...latest.values()]);
    }, { maxItems: 1_000, maxDelayMs: 200 });
  }

  /** Counts the attempt and marks the run running; resolves with the run as stored. */
  start(run: RunStart): Promise<StartedRun> {
    return this.starts.add(run);
  }

  /**
   * The same, for a run whose handler starts without waiting for it: the
   * run's settlement is written after this start (its attempt guard needs the
   * counted attempt).
   */
  startBehind(run: RunStart): Promise<StartedRun> {
    const started = this.starts.add(run);
    const written = started.then(() => undefined, () => undefined);
    this.pendingStarts.set(run.id, written);
    void written.then(() => {
      if (this.pendingStarts.get(run.id) === written) this.pendingStarts.delete(run.id);
    });
    return started;
  }

  /** The run as stored now (undefined when it has no row), read in batches. */
  peek(id: string): Promise<StoredRun | undefined> {
    return this.peeks.add(id);
  }

  async settle(settlement: RunSettlement): Promise<void> {
    await this.pendingStarts.get(settlement.id);
    return this.settlements.add(settlement);
  }

  progress(report: RunProgress): Promise<void> {
    return this.progressReports.add(report);
  }

  async flush(): Promise<void> {
    await this.starts.flush();
    await this.progressReports.flush();
    await this.settlements.flush();
  }
}
