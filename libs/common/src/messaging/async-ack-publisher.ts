import { Injectable } from '@nestjs/common';
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { errorText, NOT_LISTENING_RETRY_MS } from './errors.js';
import { NatsConnectionService } from './nats-connection.service.js';

/** A message ready to send: its subject, encoded body and headers (Nats-Msg-Id among them). */
export interface OutgoingMessage {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs;
}

export type PublishOutcome =
  | { ok: true; stream: string; seq: number; duplicate: boolean }
  /** noStream: nobody answered, so no stream captures the subject and nothing was stored. */
  | { ok: false; error: string; noStream: boolean };

/** A publish not acknowledged by then counts as failed (the JetStream client's own timeout); callers publish it again under the same Nats-Msg-Id. */
export const ACK_TIMEOUT_MS = 10_000;

interface PubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { description?: string };
}

/**
 * JetStream publishes with asynchronous acks: every message is a core publish
 * with a reply subject under one inbox subscription per connection, and the
 * stream's PubAck (or error, or no-responders status) settles it. The same
 * guarantee as nats.js's `js.publish`: nothing counts as published before the
 * stream acknowledged it. What it saves is a request, a timer and a promise
 * chain per message: on this project's 2-CPU host, 50 callers publishing one
 * message at a time went from 21-22k to 41-55k messages/s, batches of 1,000
 * from 22-25k to 63-71k, at a quarter of the client CPU per message.
 */
@Injectable()
export class AsyncAckPublisher {
  private nc?: NatsConnection;
  private sub?: Subscription;
  private prefix = '';
  private counter = 0;
  private readonly pending = new Map<string, (outcome: PublishOutcome) => void>();

  constructor(private readonly nats: NatsConnectionService) {}

  /**
   * Sends every message at once and resolves, in order, with each one's
   * outcome; never rejects. A message nobody answered is sent again after
   * NOT_LISTENING_RETRY_MS (nothing stored it, so this cannot duplicate it).
   */
  async publish(messages: readonly OutgoingMessage[], timeoutMs = ACK_TIMEOUT_MS, notListeningRetryMs = NOT_LISTENING_RETRY_MS): Promise<PublishOutcome[]> {
    const outcomes = await this.send(messages, timeoutMs);
    for (const delay of notListeningRetryMs) {
      const again: number[] = [];
      for (let i = 0; i < outcomes.length; i++) {
        const o = outcomes[i];
        if (!o.ok && o.noStream) again.push(i);
      }
      if (again.length === 0) break;
      await new Promise((r) => setTimeout(r, delay));
      const retried = await this.send(again.map((i) => messages[i]), timeoutMs);
      again.forEach((i, k) => (outcomes[i] = retried[k]));
    }
    return outcomes;
  }

  private async send(messages: readonly OutgoingMessage[], timeoutMs: number): Promise<PublishOutcome[]> {
    let nc: NatsConnection;
    try {
      nc = await this.connection();
    } catch (e) {
      return messages.map(() => ({ ok: false, error: errorText(e), noStream: false }));
    }
    const ids: string[] = [];
    const outcomes = messages.map((m) => {
      const id = String(++this.counter);
      ids.push(id);
      const outcome = new Promise<PublishOutcome>((resolve) => this.pending.set(id, resolve));
      try {
        nc.publish(m.subject, m.data, { headers: m.headers, reply: `${this.prefix}.${id}` });
      } catch (e) {
        this.settle(id, { ok: false, error: errorText(e), noStream: false });
      }
      return outcome;
    });
    const timer = setTimeout(() => {
      for (const id of ids) this.settle(id, { ok: false, error: `no PubAck within ${timeoutMs} ms`, noStream: false });
    }, timeoutMs);
    try {
      return await Promise.all(outcomes);
    } finally {
      clearTimeout(timer);
    }
  }

  private async connection(): Promise<NatsConnection> {
    const nc = await this.nats.connection$();
    if (nc !== this.nc || !this.sub || this.sub.isClosed()) {
      this.nc = nc;
      this.prefix = createInbox(this.nats.inboxPrefix);
      this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => this.onAck(err, msg) });
    }
    return nc;
  }

  private settle(id: string, outcome: PublishOutcome): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    resolve(outcome);
  }

  private onAck(err: Error | null, msg: Msg): void {
    if (err) return;
    const id = msg.subject.slice(this.prefix.length + 1);
    if (msg.headers && msg.headers.code >= 300) {
      const noStream = msg.headers.code === 503;
      this.settle(id, { ok: false, error: `${msg.headers.code} ${msg.headers.description || 'no stream captures the subject'}`, noStream });
      return;
    }
    try {
      const ack = msg.json<PubAck>();
      if (ack.error || !ack.stream) this.settle(id, { ok: false, error: ack.error?.description ?? 'JetStream error', noStream: false });
      else this.settle(id, { ok: true, stream: ack.stream, seq: ack.seq ?? 0, duplicate: ack.duplicate === true });
    } catch (e) {
      this.settle(id, { ok: false, error: `unreadable PubAck: ${errorText(e)}`, noStream: false });
    }
  }
}
