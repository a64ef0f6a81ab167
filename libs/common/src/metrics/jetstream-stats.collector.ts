import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DEAD_LETTER_REASONS } from '../dead-letters/dead-letter-reasons.js';
import { PendingJobs } from '../jobs/live/pending-jobs.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { PRIORITIES, STREAMS, type Priority } from '../messaging/subjects.js';
import type { ConsumerDeclaration } from '../messaging/topology.js';
import { MetronomeMetrics } from './metrics.registry.js';

const INTERVAL_MS = 5_000;

/** Every consumer whose backlog this process reports: its served consumers plus its job runtime's per-priority ones. */
export const MONITORED_CONSUMERS = Symbol('MONITORED_CONSUMERS');

/** The priority a job runtime consumer serves (its filter is jobs.<priority>.<service>.>), or null for any other consumer. */
export function queueOf(c: ConsumerDeclaration): Priority | null {
  const [root, priority] = c.filterSubject.split('.');
  return root === 'jobs' && (PRIORITIES as readonly string[]).includes(priority) ? (priority as Priority) : null;
}

/**
 * Copies JetStream's own view of this service's consumers (pending,
 * ack-pending, redelivered), its queues' depth and the DLQ depth into gauges,
 * so Prometheus and KEDA-style alerts see backlog without scraping NATS. A JOBS
 * message may be a pack of several jobs: JOBS consumers' backlog is counted in
 * jobs, weighed by a sample of their messages (pending-jobs.ts).
 */
@Injectable()
export class JetStreamStatsCollector implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(MONITORED_CONSUMERS) private readonly consumers: ConsumerDeclaration[],
    private readonly nats: NatsConnectionService,
    private readonly metrics: MetronomeMetrics,
  ) {}

  onApplicationBootstrap(): void {
    // Counted from 0 for every consumer this process serves, so increase() sees the first redelivery and dead letter.
    for (const c of this.consumers) {
      this.metrics.redeliveries.inc({ consumer: c.durable }, 0);
      for (const reason of DEAD_LETTER_REASONS) this.metrics.dlqMessages.inc({ consumer: c.durable, reason }, 0);
    }
    void this.collect();
    this.timer = setInterval(() => void this.collect(), INTERVAL_MS);
    this.timer.unref();
  }

  async collect(): Promise<void> {
    if (!this.nats.isConnected()) return;
    try {
      const jsm = await this.nats.jsm();
      const depth = new Map<Priority, number>();
      const jobs = new PendingJobs(jsm);
      for (const c of this.consumers) {
        const info = await jsm.consumers.info(c.stream, c.durable);
        const labels = { stream: c.stream, consumer: c.durable };
        const { pending, ackPending } = c.stream === STREAMS.JOBS ? await jobs.of(info) : { pending: info.num_pending, ackPending: info.num_ack_pending };
        this.metrics.consumerPending.set(labels, pending);
        this.metrics.consumerAckPending.set(labels, ackPending);
        this.metrics.consumerRedelivered.set(labels, info.num_redelivered);
        const queue = queueOf(c);
        // Not yet done: not delivered yet, or delivered and not acknowledged (waiting for a slot, deferred, running).
        if (queue) depth.set(queue, (depth.get(queue) ?? 0) + pending + ackPending);
      }
      for (const [queue, n] of depth) this.metrics.queueDepth.set({ queue }, n);
      const dlq = await jsm.streams.info(STREAMS.DLQ);
      this.metrics.dlqDepth.set({ stream: STREAMS.DLQ }, dlq.state.messages);
    } catch {
      // A missing consumer or a NATS hiccup: keep the last values, try again next round.
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
