import { Inject, Injectable } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { KvWatchEntry } from '@nats-io/kv';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { errorText } from '../messaging/errors.js';
import { KvBuckets, kvToken } from '../messaging/kv-buckets.js';
import { CONTROL_BUCKET, PRIORITIES, RUNS_BUCKET, type Priority } from '../messaging/subjects.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { JobRunsRepository } from './job-runs.repository.js';
import type { RunState } from './job.types.js';

export interface PauseRecord {
  since: string;
  by?: string;
  reason?: string;
}

const PAUSED = 'paused.';
const QUEUE = 'queue.';
const CANCEL = 'cancel.';

/**
 * Keys of the control bucket. A job is paused by `paused.<job>`; a queue is a
 * priority lane (the `queue` label of the run metrics: critical, high, normal,
 * low) across every service, paused by `queue.<priority>`.
 */
export const CONTROL_KEYS = {
  job: (job: string) => `${PAUSED}${job}`,
  queue: (priority: Priority) => `${QUEUE}${priority}`,
  /** In the runs bucket. */
  cancel: (runId: string) => `${CANCEL}${kvToken(runId)}`,
} as const;

/** A cancellation request: the tenant it was asked for (null: the platform), checked against the run's. */
export interface CancelRecord {
  since: string;
  companyId: string | null;
}

/**
 * Pause, resume and cancel through JetStream KV buckets every worker watches
 * (held in memory, so checking costs nothing per job): `paused.<job>` and
 * `queue.<priority>` in `control` hold pauses; `cancel.<run>` in `runs` asks
 * whichever worker holds or runs that run to settle it cancelled (those keys
 * expire with the bucket's max age if the run never comes). A watch is pushed
 * by the server, so every replica sees a change within milliseconds.
 */
@Injectable()
export class JobControl {
  private watcher?: QueuedIterator<KvWatchEntry>;
  private cancelWatcher?: QueuedIterator<KvWatchEntry>;
  private readonly paused = new Map<string, PauseRecord>();
  private readonly pausedLanes = new Map<Priority, PauseRecord>();
  private readonly cancelled = new Map<string, CancelRecord>();
  private readonly pauseListeners: ((job: string, paused: boolean) => void)[] = [];
  private readonly queuePauseListeners: ((priority: Priority, paused: boolean) => void)[] = [];
  private readonly cancelListeners: ((runId: string, companyId: string | null) => void)[] = [];

  constructor(
    private readonly buckets: KvBuckets,
    private readonly runs: JobRunsRepository,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  bucket(): Promise<KV> {
    return this.buckets.open(CONTROL_BUCKET);
  }

  /** Starts watching; resolves once the current pauses and cancellations are known. */
  async watch(): Promise<void> {
    if (this.watcher) return;
    const kv = await this.bucket();
    // The watch delivers every key's last value, then each change; reading the keys too lets start-up wait for the current state.
    this.watcher = await kv.watch({ key: '>' });
    void (async () => {
      try {
        for await (const e of this.watcher!) this.apply(e.key, e.operation, this.parse(e));
      } catch (e) {
        this.logger.warn({ error: errorText(e) }, 'control bucket watch ended');
      }
    })();
    for await (const key of await kv.keys('>')) {
      const entry = await kv.get(key);
      if (entry && entry.operation === 'PUT') this.apply(key, 'PUT', this.parse(entry));
    }
    const runs = await this.buckets.open(RUNS_BUCKET);
    this.cancelWatcher = await runs.watch({ key: `${CANCEL}>` });
    void (async () => {
      try {
        for await (const e of this.cancelWatcher!) this.applyCancel(e.key, e.operation, e);
      } catch (e) {
        this.logger.warn({ error: errorText(e) }, 'cancellation watch ended');
      }
    })();
    for await (const key of await runs.keys(`${CANCEL}>`)) {
      const entry = await runs.get(key);
      if (entry && entry.operation === 'PUT') this.applyCancel(key, 'PUT', entry);
    }
  }

  private applyCancel(key: string, operation: string, e: { value: Uint8Array; json<T>(): T }): void {
    const runId = decodeRunToken(key.slice(CANCEL.length));
    if (operation !== 'PUT') {
      this.cancelled.delete(runId);
      return;
    }
    let record: CancelRecord = { since: new Date().toISOString(), companyId: null };
    try {
      if (e.value.length) record = { ...record, ...e.json<Partial<CancelRecord>>() };
    } catch {
      // a bare key: a platform cancellation
    }
    const was = this.cancelled.has(runId);
    this.cancelled.set(runId, record);
    if (!was) for (const l of this.cancelListeners) l(runId, record.companyId);
  }

  private parse(e: { operation: string; value: Uint8Array; json<T>(): T }): PauseRecord | undefined {
    try {
      return e.operation === 'PUT' && e.value.length ? e.json<PauseRecord>() : undefined;
    } catch {
      return undefined;
    }
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.cancelWatcher?.stop();
    this.cancelWatcher = undefined;
  }

  private apply(key: string, operation: 'PUT' | 'DEL' | 'PURGE', value: PauseRecord | undefined): void {
    if (key.startsWith(PAUSED)) {
      const job = key.slice(PAUSED.length);
      if (operation === 'PUT') {
        const record = value ?? { since: new Date().toISOString() };
        const was = this.paused.has(job);
        this.paused.set(job, record);
        this.metrics.queuePaused.set({ queue: job }, 1);
        this.metrics.queuePausedSince.set({ queue: job }, new Date(record.since).getTime() / 1000);
        if (!was) {
          this.logger.info({ job, by: record.by, reason: record.reason }, 'queue paused');
          for (const l of this.pauseListeners) l(job, true);
        }
      } else if (this.paused.delete(job)) {
        this.metrics.queuePaused.set({ queue: job }, 0);
        this.metrics.queuePausedSince.set({ queue: job }, 0);
        this.logger.info({ job }, 'queue resumed');
        for (const l of this.pauseListeners) l(job, false);
      }
    } else if (key.startsWith(QUEUE)) {
      const priority = key.slice(QUEUE.length) as Priority;
      if (!(PRIORITIES as readonly string[]).includes(priority)) return;
      const label = { queue: priority };
      if (operation === 'PUT') {
        const record = value ?? { since: new Date().toISOString() };
        const was = this.pausedLanes.has(priority);
        this.pausedLanes.set(priority, record);
        this.metrics.queuePaused.set(label, 1);
        this.metrics.queuePausedSince.set(label, new Date(record.since).getTime() / 1000);
        if (!was) {
          this.logger.info({ priority, by: record.by, reason: record.reason }, 'priority queue paused');
          for (const l of this.queuePauseListeners) l(priority, true);
        }
      } else if (this.pausedLanes.delete(priority)) {
        this.metrics.queuePaused.set(label, 0);
        this.metrics.queuePausedSince.set(label, 0);
        this.logger.info({ priority }, 'priority queue resumed');
        for (const l of this.queuePauseListeners) l(priority, false);
      }
    }
  }

  onPauseChange(listener: (job: string, paused: boolean) => void): void {
    this.pauseListeners.push(listener);
  }

  onQueuePauseChange(listener: (priority: Priority, paused: boolean) => void): void {
    this.queuePauseListeners.push(listener);
  }

  /** A cancellation asked for a run (its tenant: null for the platform). */
  onCancel(listener: (runId: string, companyId: string | null) => void): void {
    this.cancelListeners.push(listener);
  }

  isPaused(job: string): boolean {
    return this.paused.has(job);
  }

  /** Whether a priority lane is paused on every worker (`queue.<priority>`). */
  isQueuePaused(priority: Priority): boolean {
    return this.pausedLanes.has(priority);
  }

  pausedPriorities(): Partial<Record<Priority, PauseRecord>> {
    return Object.fromEntries(this.pausedLanes);
  }

  /** Pauses a priority lane of every service on every replica: its waiting runs stay queued, running ones finish. */
  async pauseQueue(priority: Priority, options: { by?: string; reason?: string } = {}): Promise<void> {
    const record: PauseRecord = { since: new Date().toISOString(), ...options };
    await (await this.bucket()).put(CONTROL_KEYS.queue(priority), JSON.stringify(record));
  }

  async resumeQueue(priority: Priority): Promise<void> {
    await (await this.bucket()).delete(CONTROL_KEYS.queue(priority));
  }

  /** Whether a cancellation was asked for this run by its own tenant or the platform. */
  isCancelled(runId: string, companyId?: string | null): boolean {
    const c = this.cancelled.get(runId);
    return c !== undefined && (c.companyId === null || c.companyId === (companyId ?? null));
  }

  pausedQueues(): Record<string, PauseRecord> {
    return Object.fromEntries(this.paused);
  }

  /** Pauses a queue (job name) on every replica: waiting runs stay queued, running ones finish. */
  async pause(job: string, options: { by?: string; reason?: string } = {}): Promise<void> {
    const record: PauseRecord = { since: new Date().toISOString(), ...options };
    await (await this.bucket()).put(`${PAUSED}${job}`, JSON.stringify(record));
  }

  async resume(job: string): Promise<void> {
    await (await this.bucket()).delete(`${PAUSED}${job}`);
  }

  /**
   * Asks every worker to settle a run cancelled: one that holds it waiting
   * settles it without running, one running it aborts its signal, and a
   * message delivered later is settled on arrival. `companyId` is the tenant
   * the caller acts for (null: the platform); a worker honours it only for a
   * run of that tenant. The planned job_runs row, if any, is the caller's.
   */
  async requestCancel(runId: string, companyId: string | null): Promise<void> {
    const record: CancelRecord = { since: new Date().toISOString(), companyId };
    await (await this.buckets.open(RUNS_BUCKET)).put(CONTROL_KEYS.cancel(runId), JSON.stringify(record));
  }

  /**
   * Cancels a planned run (its job_runs row flagged; null when it does not
   * exist for this tenant or already finished) and tells every worker.
   */
  async cancel(runId: string, options: { companyId?: string } = {}): Promise<RunState | null> {
    const previous = await this.runs.cancel(runId, options.companyId);
    if (previous === null) return null;
    await this.requestCancel(runId, options.companyId ?? null);
    return previous;
  }

  /** Forgets a cancellation once the run settled. */
  async cancellationDone(runId: string): Promise<void> {
    if (!this.cancelled.has(runId)) return;
    this.cancelled.delete(runId);
    try {
      await (await this.buckets.open(RUNS_BUCKET)).purge(CONTROL_KEYS.cancel(runId));
    } catch (e) {
      this.logger.debug({ runId, error: errorText(e) }, 'could not purge the cancellation key');
    }
  }
}

function decodeRunToken(token: string): string {
  return token.startsWith('_') ? Buffer.from(token.slice(1), 'base64url').toString('utf8') : token;
}
