import { headers as natsHeaders } from '@nats-io/transport-node';
import { checkCloudEvent, MalformedEnvelopeError, type CloudEvent } from './cloud-event.js';
import type { OutgoingMessage } from './async-ack-publisher.js';

/**
 * A job pack: several due-now jobs of one subject (jobs.<priority>.<job>) in
 * one JetStream message, so the broker stores, delivers and acks once for
 * many jobs. The body is a JSON array of the jobs' CloudEvent envelopes, each
 * exactly what the job's own message would carry; the header says how many.
 * A single job message's body is a JSON object, so the first byte tells them
 * apart without decoding headers.
 */
export const PACK_HEADER = 'Metronome-Pack';
/** A pack's body stays under this size (the JOBS stream's max_msg_size is 1 MiB). */
export const MAX_PACK_BYTES = 256 * 1024;

const OPEN_BRACKET = 0x5b;
const COMMA = Buffer.from(',');
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

export function isPack(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === OPEN_BRACKET;
}

/** The Nats-Msg-Id of a pack: stable for the same jobs, so a publish retried after a lost ack is stored once. */
export function packMessageId(events: readonly CloudEvent[]): string {
  return `pack:${events[0].id}:${events.length}`;
}

/** The Nats-Msg-Id of a job handed off alone from a pack, as the attempt it will run as: a second hand-off of it is dropped. */
export function handOffMessageId(runId: string, attempt: number): string {
  return `${runId}:h${attempt}`;
}

/** One pack message from encoded envelopes of one subject. */
export function packMessage(subject: string, encoded: readonly Uint8Array[], events: readonly CloudEvent[]): OutgoingMessage {
  const parts: Uint8Array[] = [OPEN];
  encoded.forEach((e, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(e);
  });
  parts.push(CLOSE);
  const h = natsHeaders();
  h.set('Nats-Msg-Id', packMessageId(events));
  h.set(PACK_HEADER, String(events.length));
  return { subject, data: Buffer.concat(parts), headers: h };
}

/**
 * Splits envelopes of one subject into packs of at most `max` jobs and
 * MAX_PACK_BYTES; returns the index ranges. A job alone in its range is sent as
 * its own message by the caller.
 */
export function packRanges(encoded: readonly Uint8Array[], max: number): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  let bytes = 2;
  for (let i = 0; i < encoded.length; i++) {
    const size = encoded[i].length + 1;
    if (i > start && (i - start >= max || bytes + size > MAX_PACK_BYTES)) {
      ranges.push([start, i]);
      start = i;
      bytes = 2;
    }
    bytes += size;
  }
  if (encoded.length > start) ranges.push([start, encoded.length]);
  return ranges;
}

/** The envelopes of a pack body, each checked as parseCloudEvent checks one; throws MalformedEnvelopeError. */
export function parsePack(data: Uint8Array, maxBytes: number): CloudEvent[] {
  if (data.length > maxBytes) throw new MalformedEnvelopeError(`message of ${data.length} bytes exceeds the ${maxBytes}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (e) {
    throw new MalformedEnvelopeError(`pack body is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(value) || value.length === 0) throw new MalformedEnvelopeError('pack body is not a non-empty JSON array');
  return value.map((v, i) => {
    try {
      return checkCloudEvent(v);
    } catch (e) {
      throw new MalformedEnvelopeError(`pack job ${i}: ${(e as Error).message}`);
    }
  });
}
