import { Inject, Injectable } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { KvWatchEntry } from '@nats-io/kv';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { errorText } from '../messaging/errors.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { CONTROL_BUCKET, PRIORITIES, type Priority } from '../messaging/subjects.js';
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
  cancel: (runId: string) => `${CANCEL}${runId}`,
} as const;

/**
 * Pause, resume and cancel through the JetStream KV bucket `control`, which
 * every worker watches: `paused.<job>` holds a pause, `cancel.<runId>` asks
 * whichever worker runs that run to abort it. A watch is pushed by the server,
 * so every replica sees a change within milliseconds.
 */
@Injectable()
export class JobControl {
  private kv?: Promise<KV>;
  private watcher?: QueuedIterator<KvWatchEntry>;
  private readonly paused = new Map<string, PauseRecord>();
  private readonly pausedLanes = new Map<Priority, PauseRecord>();
  private readonly cancelled = new Set<string>();
  private readonly pauseListeners: ((job: string, paused: boolean) => void)[] = [];
  private readonly queuePauseListeners: ((priority: Priority, paused: boolean) => void)[] = [];
  private readonly cancelListeners: ((runId: string) => void)[] = [];

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly runs: JobRunsRepository,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  bucket(): Promise<KV> {
    this.kv ??= (async () => {
      const kvm = new Kvm(await this.nats.js());
      try {
        const kv = await kvm.open(CONTROL_BUCKET);
        await kv.status();
        return kv;
      } catch {
        return kvm.create(CONTROL_BUCKET, { history: 1 });
      }
    })().catch((e) => {
      this.kv = undefined;
      throw e;
    });
    return this.kv;
  }

  /** Starts watching; resolves once the current pauses and cancellations are known. */
  async watch(): Promise<void> {
    if (this.watcher) return;
    const kv = await this.bucket();
    // Every priority lane this process watches reports running (0) until a pause says otherwise.
    for (const queue of PRIORITIES) {
      this.metrics.queuePaused.set({ queue }, 0);
      this.metrics.queuePausedSince.set({ queue }, 0);
    }
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
    } else if (key.startsWith(CANCEL)) {
      const runId = key.slice(CANCEL.length);
      if (operation === 'PUT') {
        this.cancelled.add(runId);
        for (const l of this.cancelListeners) l(runId);
      } else this.cancelled.delete(runId);
    }
  }

  onPauseChange(listener: (job: string, paused: boolean) => void): void {
    this.pauseListeners.push(listener);
  }

  onQueuePauseChange(listener: (priority: Priority, paused: boolean) => void): void {
    this.queuePauseListeners.push(listener);
  }

  onCancel(listener: (runId: string) => void): void {
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

  isCancelled(runId: string): boolean {
    return this.cancelled.has(runId);
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
   * Cancels a queued or running run: flags it in job_runs (a queued run is
   * settled 'cancelled' without running) and tells every worker, so the one
   * running it aborts its signal. Returns the state it was in, or null when the
   * run is unknown (to this tenant) or already finished.
   */
  async cancel(runId: string, options: { companyId?: string } = {}): Promise<RunState | null> {
    const previous = await this.runs.cancel(runId, options.companyId);
    if (previous === null) return null;
    await (await this.bucket()).put(`${CANCEL}${runId}`, JSON.stringify({ since: new Date().toISOString() }));
    return previous;
  }

  /** Forgets a cancellation once the run settled. */
  async cancellationDone(runId: string): Promise<void> {
    if (!this.cancelled.has(runId)) return;
    this.cancelled.delete(runId);
    try {
      await (await this.bucket()).purge(`${CANCEL}${runId}`);
    } catch (e) {
      this.logger.debug({ runId, error: errorText(e) }, 'could not purge the cancellation key');
    }
  }
}
