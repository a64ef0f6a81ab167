import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ROOT_LOGGER, SERVICE_NAME } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { errorText } from '../../messaging/errors.js';
import { KvBuckets } from '../../messaging/kv-buckets.js';
import { WORKERS_BUCKET } from '../../messaging/subjects.js';
import type { Delivery } from './delivery.js';
import type { AttemptAbort } from '../attempt-abort.js';

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Running attempts listed per heartbeat (the rest are counted). */
const MAX_LISTED = 500;
/** A progress report is published at most this often beyond the regular beat. */
const PROGRESS_BEAT_MS = 1_000;

/** A running attempt as a worker's heartbeat lists it. */
export interface RunningAttempt {
  runId: string;
  job: string;
  companyId: string | null;
  priority: string;
  attempt: number;
  maxAttempts: number;
  startedAt: string;
  scheduledFor: string | null;
  progress: number | null;
  progressMessage: string | null;
}

/** The value of `<service>.<instance>` in the workers bucket. */
export interface WorkerBeat {
  instance: string;
  service: string;
  host: string;
  pid: number;
  startedAt: string;
  beatAt: string;
  /** Handlers running at once, all jobs together. */
  concurrency: number;
  jobs: string[];
  inFlight: number;
  /** Pulled and waiting for a slot, held until due, or parked while paused. */
  waiting: number;
  held: number;
  /** Finished, waiting for their history commit and ack. */
  settling: number;
  running: RunningAttempt[];
}

export interface RunningHandle {
  progress(percent: number, message: string | null): void;
  done(): void;
}

/**
 * One running attempt: the handle its handler reports through, listed in beats (the listing is made only when a
 * beat lists it), and the abort an operator's cancellation reaches it by. Linked into the heartbeat's list of
 * running attempts rather than kept in a Map by run id: a Map set and deleted once a job replaced its hash table
 * over and over, and every replaced table was promoted (16 MB of a burn-down's 218 promoted, 2026-12-06).
 */
export class RunningEntry implements RunningHandle {
  private progressPercent: number | null = null;
  private progressMessage: string | null = null;
  /** @internal The heartbeat's list. */
  prev?: RunningEntry;
  /** @internal The heartbeat's list. */
  next?: RunningEntry;

  constructor(
    private readonly heartbeat: WorkerHeartbeat,
    readonly d: Delivery,
    readonly abort: AttemptAbort,
    private readonly startedAtMs: number,
  ) {}

  progress(percent: number, message: string | null): void {
    this.progressPercent = percent;
    this.progressMessage = message;
    this.heartbeat.progressed();
  }

  done(): void {
    this.heartbeat.ended(this);
  }

  listed(): RunningAttempt {
    const d = this.d;
    return {
      runId: d.event.id,
      job: d.spec.name,
      companyId: d.parts.companyId ?? null,
      priority: d.priority,
      attempt: d.attempt,
      maxAttempts: d.maxAttempts,
      startedAt: new Date(this.startedAtMs).toISOString(),
      scheduledFor: d.parts.scheduledFor?.toISOString() ?? null,
      progress: this.progressPercent,
      progressMessage: this.progressMessage,
    };
  }
}

type Stats = () => Pick<WorkerBeat, 'inFlight' | 'waiting' | 'held' | 'settling'>;

/**
 * What this worker runs now, published every HEARTBEAT_INTERVAL_MS to the
 * `workers` KV bucket (entries expire when a worker stops beating). The admin
 * API lists running runs, their progress and the workers from it: no row per
 * job is written to Postgres while a job runs.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly instance = `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}-${randomBytes(2).toString('hex')}`;
  /** Running attempts, oldest first. */
  private first?: RunningEntry;
  private last?: RunningEntry;
  private runningCount = 0;
  private readonly startedAt = new Date().toISOString();
  private timer?: NodeJS.Timeout;
  private lastBeat = 0;
  private pendingBeat?: NodeJS.Timeout;
  private jobs: string[] = [];
  private concurrency = 0;
  private stats: Stats = () => ({ inFlight: this.runningCount, waiting: 0, held: 0, settling: 0 });
  private active = false;

  constructor(
    private readonly buckets: KvBuckets,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  get key(): string {
    return `${this.service.replace(/[^A-Za-z0-9_-]/g, '-')}.${this.instance}`;
  }

  /** Called by the job runtime once its handlers are known. */
  describe(jobs: string[], concurrency: number, stats: Stats): void {
    this.jobs = jobs;
    this.concurrency = concurrency;
    this.stats = stats;
    this.active = true;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.active) return;
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.pendingBeat);
    if (!this.active) return;
    this.active = false;
    try {
      await (await this.buckets.open(WORKERS_BUCKET)).delete(this.key);
    } catch {
      // gone with the connection: the entry expires
    }
  }

  started(d: Delivery, abort: AttemptAbort): RunningHandle {
    const entry = new RunningEntry(this, d, abort, Date.now());
    entry.prev = this.last;
    if (this.last) this.last.next = entry;
    else this.first = entry;
    this.last = entry;
    this.runningCount++;
    return entry;
  }

  /** The attempts running in this process now, oldest first. */
  *runningNow(): IterableIterator<RunningEntry> {
    for (let e = this.first; e; e = e.next) yield e;
  }

  /** @internal RunningEntry's report of progress. */
  progressed(): void {
    this.soon();
  }

  /** @internal RunningEntry's end. */
  ended(entry: RunningEntry): void {
    if (entry.prev === undefined && this.first !== entry) return; // not linked (ended before)
    if (entry.prev) entry.prev.next = entry.next;
    else this.first = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.last = entry.prev;
    entry.prev = entry.next = undefined;
    this.runningCount--;
  }

  /** An extra beat soon after a progress report, at most one per PROGRESS_BEAT_MS. */
  private soon(): void {
    if (this.pendingBeat || !this.active) return;
    const wait = Math.max(0, this.lastBeat + PROGRESS_BEAT_MS - Date.now());
    this.pendingBeat = setTimeout(() => {
      this.pendingBeat = undefined;
      void this.beat();
    }, wait);
  }

  snapshot(): WorkerBeat {
    const running: RunningAttempt[] = [];
    for (const r of this.runningNow()) {
      if (running.length >= MAX_LISTED) break;
      running.push(r.listed());
    }
    return {
      instance: this.instance,
      service: this.service,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      beatAt: new Date().toISOString(),
      concurrency: this.concurrency,
      jobs: this.jobs,
      ...this.stats(),
      running,
    };
  }

  private async beat(): Promise<void> {
    if (!this.active) return;
    this.lastBeat = Date.now();
    try {
      await (await this.buckets.open(WORKERS_BUCKET)).put(this.key, JSON.stringify(this.snapshot()));
    } catch (e) {
      this.log.debug({ error: errorText(e) }, 'could not publish the worker heartbeat');
    }
  }
}
