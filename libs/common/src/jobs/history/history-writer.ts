import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { errorText } from '../../messaging/errors.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import { OverlappingBatcher, type Completion } from '../../util/overlapping-batcher.js';
import type { AttemptRecord } from './attempt-record.js';
import { HistoryRepository } from './history.repository.js';
import { UnstorableValueError } from './storable-json.js';
import { postgresText } from '../../util/postgres-text.js';

/**
 * A batch goes once it holds this many rows, whatever is left of its window: under a backlog the runtime's
 * settling room (8 finished jobs per slot) can fill first: a slot held then hurries the batch.
 */
const BATCH_ROWS = 500;
/**
 * Rows wait up to this long for company. At 1,000 jobs/s a 4 ms window made
 * 4-row batches; 50 ms makes 50-row ones. Full bench runs, 2026-12-04:
 * Postgres CPU 7.0–8.2 s with 20 ms (three runs), 5.2–5.3 s with 50 ms (two),
 * history lag p99 29–37 → 59–62 ms. Only the ack waits (the slot is free once
 * the handler returns); a retrying attempt's batch is sent at once, and so is
 * one a handler slot waits for (the runtime's settling cap is reached: waiting
 * out the window there held the whole worker; JobRuntime gives the figures).
 */
const BATCH_WINDOW_MS = 50;
const BATCHES_IN_FLIGHT = 3;
/** How the writer batches, shared with `npm run bench:history-floor` so the floor batches as the runtime does. */
export const HISTORY_BATCHING = { maxItems: BATCH_ROWS, maxDelayMs: BATCH_WINDOW_MS, inFlight: BATCHES_IN_FLIGHT } as const;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 15_000;
const PARTITION_CHECK_MS = 6 * 3600_000;

/**
 * Errors in the data itself, where retrying the same rows cannot help: SQLSTATE classes 22 (data exception) and 23
 * (integrity), and a value that cannot be JSON at all.
 */
function isDataError(e: unknown): boolean {
  if (e instanceof UnstorableValueError) return true;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/**
 * Writes finished attempts to job_attempts in large batches (one COPY and
 * one round trip each, a few in flight), resolving each caller once its row is committed —
 * the job's message is acked only then, so no outcome is lost.
 *
 * While Postgres is away the writer keeps retrying with backoff and callers
 * keep waiting (the runtime keeps their messages alive with working()), so an
 * outage delays acks instead of re-running handlers. A row Postgres refuses as
 * data (an invalid value), or holding a result that cannot be JSON, is retried
 * alone without its result and payload and with NULs replaced in its error
 * and stack; one refused even then is rejected to its caller.
 */
@Injectable()
export class HistoryWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly batcher: OverlappingBatcher<AttemptRecord, void>;
  private partitionTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly repository: HistoryRepository,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {
    this.batcher = new OverlappingBatcher((batch) => this.writeBatch(batch), {
      ...HISTORY_BATCHING,
      completionFailed: (e) => this.log.error({ error: errorText(e) }, 'a job settlement failed after its history row was committed'),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.keepPartitions();
    this.partitionTimer = setInterval(() => void this.keepPartitions(), PARTITION_CHECK_MS);
    this.partitionTimer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.partitionTimer);
  }

  /**
   * Resolves once the attempt is committed. `urgent`: something waits for this row (a handler slot the
   * runtime holds until the ack), so its batch goes at once; a retrying attempt's always does (its next
   * attempt waits for it).
   */
  record(attempt: AttemptRecord, urgent = false): Promise<void> {
    return this.batcher.add(attempt, urgent || attempt.outcome === 'retrying');
  }

  /** As `record`, telling `then` instead of returning a promise (the job path: nothing per row waits in a promise). */
  recordThen(attempt: AttemptRecord, urgent: boolean, then: Completion<void>): void {
    this.batcher.addThen(attempt, urgent || attempt.outcome === 'retrying', then);
  }

  /** Rows waiting for a batch. */
  get backlog(): number {
    return this.batcher.queued;
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  private async keepPartitions(): Promise<void> {
    try {
      const made = await this.repository.ensurePartitions();
      if (made) this.log.info({ made }, 'run history partitions created ahead');
    } catch (e) {
      this.log.warn({ error: errorText(e) }, 'could not create run history partitions ahead (rows go to the default partition)');
    }
  }

  private async writeBatch(batch: AttemptRecord[]): Promise<(void | Error)[]> {
    let id: string | undefined;
    let tried = false;
    for (let delay = RETRY_MIN_MS; ; delay = Math.min(RETRY_MAX_MS, delay * 2)) {
      const started = performance.now();
      try {
        id ??= await this.repository.batchId();
        // A try whose answer was lost may have committed: the retry finds its rows by the same batch id.
        await this.repository.write(batch, id, tried);
        this.metrics.historyBatch.observe((performance.now() - started) / 1000);
        this.metrics.historyRows.inc(batch.length);
        return batch.map(() => undefined);
      } catch (e) {
        if (isDataError(e)) return this.writeOneByOne(batch);
        tried = id !== undefined;
        if (this.stopped) return batch.map(() => (e instanceof Error ? e : new Error(errorText(e))));
        this.metrics.historyWriteErrors.inc();
        this.log.error({ rows: batch.length, retryInMs: delay, error: errorText(e) }, 'could not write run history; retrying (the jobs stay unacknowledged meanwhile)');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async writeOneByOne(batch: AttemptRecord[]): Promise<(void | Error)[]> {
    const out: (void | Error)[] = [];
    for (const r of batch) {
      try {
        await this.repository.write([r], await this.repository.batchId());
      } catch (first) {
        if (!isDataError(first)) {
          out.push(first instanceof Error ? first : new Error(errorText(first)));
          continue;
        }
        try {
          const stripped = { ...r, result: null, payload: null, error: r.error === null ? null : postgresText(r.error).slice(0, 2_000), errorStack: r.errorStack === null ? null : postgresText(r.errorStack) };
          await this.repository.write([stripped], await this.repository.batchId());
          this.log.warn({ runId: r.runId, job: r.job, error: errorText(first) }, 'run history row stored without its result and payload');
        } catch (e) {
          out.push(e instanceof Error ? e : new Error(errorText(e)));
          continue;
        }
      }
      out.push(undefined);
    }
    return out;
  }
}
