import { Inject, Injectable } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { SERVICE_NAME } from '../logging/logging.module.js';
import { createCloudEvent, encodeCloudEvent, type CloudEvent } from './cloud-event.js';
import { AsyncAckPublisher, type OutgoingMessage, type PublishOutcome } from './async-ack-publisher.js';
import { PublishFailedError, StreamMissingError } from './errors.js';
import { packMessage, packRanges } from './job-pack.js';
import { HEADERS, subjects, type Priority } from './subjects.js';

export interface PublishResult {
  id: string;
  stream: string;
  seq: number;
  /** True when JetStream dropped it as a repeat of an id seen within the dedup window. */
  duplicate: boolean;
}

/** An envelope as a message ready to send: Nats-Msg-Id (the event id unless given), the tenant header and any extra headers. */
export function envelopeMessage(subject: string, event: CloudEvent, extraHeaders: Record<string, string> = {}, msgId = event.id): OutgoingMessage {
  const h = natsHeaders();
  h.set('Nats-Msg-Id', msgId);
  if (event.companyid) h.set(HEADERS.companyId, event.companyid);
  for (const [k, v] of Object.entries(extraHeaders)) h.set(k, v);
  return { subject, data: encodeCloudEvent(event), headers: h };
}

function stored(subject: string, event: CloudEvent, outcome: PublishOutcome): PublishResult {
  if (!outcome.ok) throw outcome.noStream ? new StreamMissingError(subject) : new PublishFailedError(subject, outcome.error);
  return { id: event.id, stream: outcome.stream, seq: outcome.seq, duplicate: outcome.duplicate };
}

/**
 * Publishes CloudEvents to JetStream with Nats-Msg-Id = event id and waits for
 * the stream's ack, so a resolved promise means the message is stored.
 */
@Injectable()
export class EventPublisher {
  constructor(
    private readonly acks: AsyncAckPublisher,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  get source(): string {
    return `metronome/${this.service}`;
  }

  async publishEnvelope(subject: string, event: CloudEvent, extraHeaders: Record<string, string> = {}, msgId = event.id): Promise<PublishResult> {
    const [outcome] = await this.acks.publish([envelopeMessage(subject, event, extraHeaders, msgId)]);
    return stored(subject, event, outcome);
  }

  /**
   * Many envelopes at once, all in flight together (asynchronous acks on one
   * inbox); resolves once JetStream stored every one, in order, and rejects
   * with the first failure otherwise (publishing again under the same ids is
   * safe: the stream keeps one of each). Only Nats-Msg-Id rides as a header:
   * jobs carry everything else in the body. With `packMax` > 1, jobs of one
   * subject go together in packs of up to that many (job-pack.ts): one stored
   * message, and each job's result names the pack's sequence.
   */
  async publishMany(messages: readonly { subject: string; event: CloudEvent }[], packMax = 1): Promise<PublishResult[]> {
    if (packMax > 1 && messages.length > 1) return this.publishPacked(messages, packMax);
    const outcomes = await this.acks.publish(
      messages.map(({ subject, event }) => {
        const h = natsHeaders();
        h.set('Nats-Msg-Id', event.id);
        return { subject, data: encodeCloudEvent(event), headers: h };
      }),
    );
    return outcomes.map((o, i) => stored(messages[i].subject, messages[i].event, o));
  }

  private async publishPacked(messages: readonly { subject: string; event: CloudEvent }[], packMax: number): Promise<PublishResult[]> {
    const bySubject = new Map<string, number[]>();
    messages.forEach((m, i) => {
      const same = bySubject.get(m.subject);
      if (same) same.push(i);
      else bySubject.set(m.subject, [i]);
    });
    const outgoing: OutgoingMessage[] = [];
    const members: number[][] = [];
    for (const [subject, indexes] of bySubject) {
      const encoded = indexes.map((i) => encodeCloudEvent(messages[i].event));
      for (const [from, to] of packRanges(encoded, packMax)) {
        const idx = indexes.slice(from, to);
        members.push(idx);
        if (idx.length === 1) {
          const h = natsHeaders();
          h.set('Nats-Msg-Id', messages[idx[0]].event.id);
          outgoing.push({ subject, data: encoded[from], headers: h });
        } else {
          outgoing.push(packMessage(subject, encoded.slice(from, to), idx.map((i) => messages[i].event)));
        }
      }
    }
    const outcomes = await this.acks.publish(outgoing);
    const out = new Array<PublishResult>(messages.length);
    members.forEach((idx, k) => idx.forEach((i) => (out[i] = stored(messages[i].subject, messages[i].event, outcomes[k]))));
    return out;
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
