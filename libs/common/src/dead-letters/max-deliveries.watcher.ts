import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { MAX_ENVELOPE_BYTES, parseCloudEvent, type CloudEvent } from '../messaging/cloud-event.js';
import { errorText } from '../messaging/errors.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import type { ConsumerDeclaration } from '../messaging/topology.js';
import { MONITORED_CONSUMERS } from '../metrics/jetstream-stats.collector.js';
import { DeadLetterWriter } from './dead-letter.writer.js';

/** What nats-server publishes when a message reached its consumer's max_deliver (io.nats.jetstream.advisory.v1.max_deliver). */
interface MaxDeliverAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/** The subject of the advisory for one consumer. */
export function maxDeliveriesSubject(stream: string, consumer: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`;
}

/**
 * A message that used up its consumer's max_deliver without being settled
 * (its last delivery's worker died too) is never delivered again: JetStream
 * only says so in an advisory. This process listens for the advisories of its
 * own consumers and turns each into a dead letter (reason `max_deliveries`,
 * with the message read back by its stream sequence), and removes it from a
 * work-queue stream, so nothing ends in silence. Job consumers have unlimited
 * deliveries (the runtime counts attempts), so for them this should never fire.
 */
@Injectable()
export class MaxDeliveriesWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(MONITORED_CONSUMERS) private readonly consumers: ConsumerDeclaration[],
    private readonly nats: NatsConnectionService,
    private readonly deadLetters: DeadLetterWriter,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.consumers.length === 0) return;
    const nc = await this.nats.connection$();
    for (const c of this.consumers) {
      const sub = nc.subscribe(maxDeliveriesSubject(c.stream, c.durable));
      this.subscriptions.push(sub);
      void (async () => {
        for await (const m of sub) {
          try {
            await this.deadLetter(c, m.json<MaxDeliverAdvisory>());
          } catch (e) {
            this.log.error({ consumer: c.durable, error: errorText(e) }, 'could not dead-letter a message that reached its max deliveries');
          }
        }
      })();
    }
  }

  onApplicationShutdown(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private async deadLetter(c: ConsumerDeclaration, a: MaxDeliverAdvisory): Promise<void> {
    const jsm = await this.nats.jsm();
    const stored = await jsm.streams.getMessage(a.stream, { seq: a.stream_seq });
    if (!stored) return; // settled or removed meanwhile
    let event: CloudEvent | undefined;
    try {
      event = parseCloudEvent(stored.data, MAX_ENVELOPE_BYTES);
    } catch {
      event = undefined;
    }
    const headers: Record<string, string[]> = {};
    if (stored.header) for (const [k, v] of stored.header) headers[k] = v;
    const now = new Date();
    await this.deadLetters.write({
      id: event?.id ?? `${a.stream}-${a.stream_seq}`,
      stream: a.stream,
      consumer: c.durable,
      subject: stored.subject,
      messageType: event?.type ?? null,
      companyId: event?.companyid ?? null,
      headers,
      payload: Buffer.from(stored.data).toString('utf8'),
      reason: 'max_deliveries',
      error: `delivered ${a.deliveries} times (max_deliver) and never settled: its workers died or stalled past the ack wait each time`,
      attempts: a.deliveries,
      firstFailedAt: stored.time,
      lastFailedAt: now,
      runId: event?.id ?? null,
    });
    // A work-queue stream would keep it forever, unacknowledgeable: it now lives in the dead letters.
    if (c.stream === 'JOBS') await jsm.streams.deleteMessage(a.stream, a.stream_seq, false).catch(() => false);
    this.log.warn({ consumer: c.durable, seq: a.stream_seq, deliveries: a.deliveries, type: event?.type }, 'message reached its max deliveries: dead-lettered');
  }
}
