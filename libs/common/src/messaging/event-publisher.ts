import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { PubAck } from '@nats-io/jetstream';
import { SERVICE_NAME } from '../logging/logging.module.js';
import { createCloudEvent, encodeCloudEvent, type CloudEvent } from './cloud-event.js';
import { isNoStreamListening, StreamMissingError } from './errors.js';
import { NatsConnectionService } from './nats-connection.service.js';
import { HEADERS, subjects, type Priority } from './subjects.js';

export interface PublishResult {
  id: string;
  stream: string;
  seq: number;
  /** True when JetStream dropped it as a repeat of an id seen within the dedup window. */
  duplicate: boolean;
}

/**
 * Publishes CloudEvents to JetStream with Nats-Msg-Id = event id and waits for
 * the stream's ack, so a resolved promise means the message is stored.
 */
@Injectable()
export class EventPublisher {
  constructor(
    private readonly nats: NatsConnectionService,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  get source(): string {
    return `metronome/${this.service}`;
  }

  async publishEnvelope(subject: string, event: CloudEvent, extraHeaders: Record<string, string> = {}): Promise<PublishResult> {
    const js = await this.nats.js();
    const h = natsHeaders();
    if (event.companyid) h.set(HEADERS.companyId, event.companyid);
    for (const [k, v] of Object.entries(extraHeaders)) h.set(k, v);
    let ack: PubAck;
    try {
      ack = await js.publish(subject, encodeCloudEvent(event), { msgID: event.id, headers: h });
    } catch (e) {
      if (isNoStreamListening(e)) throw new StreamMissingError(subject);
      throw e;
    }
    return { id: event.id, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Many envelopes at once, all in flight together (one request each, acks
   * awaited in parallel); resolves once JetStream stored every one, in order.
   * Only Nats-Msg-Id rides as a header: jobs carry everything else in the body.
   */
  async publishMany(messages: readonly { subject: string; event: CloudEvent }[]): Promise<PublishResult[]> {
    const js = await this.nats.js();
    return Promise.all(
      messages.map(async ({ subject, event }) => {
        try {
          const ack = await js.publish(subject, encodeCloudEvent(event), { msgID: event.id });
          return { id: event.id, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
        } catch (e) {
          if (isNoStreamListening(e)) throw new StreamMissingError(subject);
          throw e;
        }
      }),
    );
  }

  /** A domain event on events.<companyId>.<type>. */
  async publishEvent<T>(type: string, companyId: string, data: T, options: { id?: string; time?: Date } = {}): Promise<PublishResult> {
    const event = createCloudEvent({ type, source: this.source, data, companyId, id: options.id, time: options.time });
    return this.publishEnvelope(subjects.event(companyId, type), event);
  }

  /** A job message on jobs.<priority>.<job>; the event id is the run id. */
  async publishJob<T>(
    job: string,
    data: T,
    options: { runId?: string; priority?: Priority; companyId?: string; scheduledFor?: Date } = {},
  ): Promise<PublishResult> {
    const event = createCloudEvent({ type: job, source: this.source, data, companyId: options.companyId, id: options.runId });
    const extra: Record<string, string> = {};
    if (options.scheduledFor) extra[HEADERS.scheduledFor] = options.scheduledFor.toISOString();
    return this.publishEnvelope(subjects.job(options.priority ?? 'normal', job), event, extra);
  }
}
