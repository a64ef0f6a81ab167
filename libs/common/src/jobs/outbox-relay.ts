import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { AsyncAckPublisher, type OutgoingMessage, type PublishOutcome } from '../messaging/async-ack-publisher.js';
import type { CloudEvent } from '../messaging/cloud-event.js';
import { envelopeMessage } from '../messaging/event-publisher.js';
import { errorText } from '../messaging/errors.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { Batcher } from '../util/batcher.js';
import { Clock } from './clock.js';
import { OutboxRepository, type OutboxRow, type PlannedRun } from './outbox.repository.js';

/** Rows younger than this are left to the process that wrote them to publish eagerly. */
export const RELAY_GRACE_MS = 2_000;
/** Rows with a due time (delayed runs, look-ahead claims) are left to their writer this long after it. */
export const RELAY_DUE_GRACE_MS = 1_000;
const RELAY_BATCH = 500;
/** Publishes in flight at once; JetStream acks them pipelined on one connection. */
const PUBLISH_WINDOW = 2_000;
/** Marking a large burst published is deferred this long, off the instant its consumers start. */
const MARK_DEFER_MS = 100;
/** Encodes rows ahead of time, so a publish at the due instant only sends. */
function prepare(rows: OutboxRow[]): OutgoingMessage[] {
  return rows.map((row) => envelopeMessage(row.subject, row.body as CloudEvent, row.headers, row.runId));
}

export function outboxRowOf(run: PlannedRun): OutboxRow {
  return { seq: '', runId: run.id, subject: run.subject, body: run.body, headers: run.headers, job: run.job, scheduledFor: run.scheduledFor };
}

/**
 * Publishes outbox rows to JetStream with Nats-Msg-Id = run id, then marks them
 * published and their runs queued in one batched UPDATE.
 *
 * Two paths use it: the writer of a row publishes it right after its commit
 * (`publishNow`), and the relay loop republishes rows still unpublished after
 * RELAY_GRACE_MS — the writer crashed between commit and publish, or NATS was
 * away. JetStream's duplicate window (2 minutes) turns a row published twice
 * into one stored message; beyond that, consumers are idempotent by run id.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private loop = Promise.resolve();
  private readonly marks: Batcher<string>;
  private readonly timers = new Map<NodeJS.Timeout, { at: number; fire: () => void; cancel: () => void }>();

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly jetstream: AsyncAckPublisher,
    private readonly clock: Clock,
    private readonly metrics: MetronomeMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.marks = new Batcher<string>((ids) => this.outbox.markPublished(this.outbox.db, ids, this.clock.now()), { maxItems: 1_000, maxDelayMs: 5 });
  }

  onApplicationBootstrap(): void {
    if (this.config.outboxRelay) this.start();
  }

  /** Starts the relay loop (every SCHEDULER_POLL_MS). Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.loop = this.relayOnce()
        .then((n) => n)
        .catch((e) => {
          this.logger.warn({ error: errorText(e) }, 'outbox relay pass failed; retrying');
          return 0;
        })
        .then((n) => {
          if (this.stopped) return;
          // A full batch means more is waiting: go again at once.
          this.timer = setTimeout(tick, n >= RELAY_BATCH ? 0 : Math.max(this.config.schedulerPollMs, 100));
        });
    };
    tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // Publishes due within a second still happen on time; later ones are left to a relay.
    const now = this.clock.now().getTime();
    for (const [t, pending] of [...this.timers]) {
      if (pending.at - now > 1_000) {
        clearTimeout(t);
        this.timers.delete(t);
        pending.cancel();
      }
    }
    await Promise.all(
      [...this.timers.values()].map(
        (p) => new Promise<void>((resolve) => {
          const check = () => (this.timers.size === 0 || ![...this.timers.values()].includes(p) ? resolve() : setTimeout(check, 5));
          check();
        }),
      ),
    );
    await this.loop.catch(() => undefined);
    await this.marks.flush().catch(() => undefined);
  }

  /**
   * Publishes rows just committed by this process; resolves with the run ids
   * the stream acknowledged. Marking them published is bookkeeping batched in
   * the background (concurrent callers' marks go in one UPDATE): a mark that
   * fails is logged and the relay republishes those rows, deduplicated by
   * Nats-Msg-Id. Publish failures are logged, not thrown: the rows stay in the
   * outbox and the relay retries them.
   */
  async publishNow(rows: OutboxRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const published = await this.publishAll(rows);
    if (published.length) {
      void Promise.all(published.map((id) => this.marks.add(id))).catch((e: unknown) => {
        this.logger.warn({ error: errorText(e), runs: published.length }, 'could not mark outbox rows published; the relay will republish them (deduplicated)');
      });
    }
    return published;
  }

  /**
   * Publishes rows (already committed, with not_before = `at`) when they are
   * due. If this process stops first they stay in the outbox and a relay
   * publishes them RELAY_DUE_GRACE_MS after `at`. Resolves with the published
   * run ids ([] when left to the relay).
   */
  publishAt(rows: OutboxRow[], at: Date): Promise<string[]> {
    const delay = at.getTime() - this.clock.now().getTime();
    if (delay <= 0 || rows.length === 0) return this.publishAndMark(rows);
    const prepared = prepare(rows);
    return new Promise<string[]>((resolve) => {
      const t = setTimeout(() => {
        const pending = this.timers.get(t);
        if (pending) pending.fire();
      }, delay);
      this.timers.set(t, {
        at: at.getTime(),
        fire: () => {
          void this.publishAndMark(rows, prepared).then(resolve, () => resolve([])).finally(() => this.timers.delete(t));
        },
        cancel: () => resolve([]),
      });
    });
  }

  /** Publishes rows and marks all published ones in one UPDATE; returns published run ids. */
  async publishAndMark(rows: OutboxRow[], prepared?: OutgoingMessage[]): Promise<string[]> {
    const published = await this.publishAll(rows, prepared);
    if (published.length) {
      const at = this.clock.now();
      // Bookkeeping waits until consumers have had the CPU for the burst just published.
      if (published.length >= 100) await new Promise((r) => setTimeout(r, MARK_DEFER_MS));
      try {
        await this.outbox.markPublished(this.outbox.db, published, at);
      } catch (e) {
        this.logger.warn({ error: errorText(e), runs: published.length }, 'could not mark outbox rows published; the relay will republish them (deduplicated)');
      }
    }
    return published;
  }

  /** One relay pass over stale unpublished rows; returns how many it handled. */
  async relayOnce(): Promise<number> {
    return this.outbox.transaction(async (tx) => {
      const rows = await this.outbox.lockUnpublished(tx, this.clock.now(), RELAY_GRACE_MS, RELAY_DUE_GRACE_MS, RELAY_BATCH);
      if (rows.length === 0) return 0;
      const published = await this.publishAll(rows);
      await this.outbox.markPublished(tx, published, this.clock.now());
      if (published.length) this.logger.info({ published: published.length, pending: rows.length - published.length }, 'outbox relay republished runs');
      return rows.length;
    });
  }

  /** Publishes in order with a bounded window of publishes in flight; never throws. */
  private async publishAll(rows: OutboxRow[], prepared?: OutgoingMessage[]): Promise<string[]> {
    const ok: string[] = [];
    let failed = 0;
    let firstError: unknown;
    for (let i = 0; i < rows.length; i += PUBLISH_WINDOW) {
      const chunk = rows.slice(i, i + PUBLISH_WINDOW);
      const preparedChunk = prepared?.slice(i, i + PUBLISH_WINDOW);
      const results: PublishOutcome[] = await this.jetstream.publish(preparedChunk ?? prepare(chunk));
      const now = this.clock.now().getTime();
      results.forEach((r, j) => {
        const row = chunk[j];
        if (r.ok) {
          ok.push(row.runId);
          if (row.scheduledFor && !r.duplicate) {
            this.metrics.jobLateness.bind({ job: row.job, stage: 'published' }).observe(Math.max(0, now - row.scheduledFor.getTime()) / 1000);
          }
        } else {
          failed++;
          firstError ??= r.error;
        }
      });
    }
    if (failed) this.logger.warn({ failed, error: errorText(firstError) }, 'publishing outbox rows failed; the relay retries them');
    return ok;
  }
}
