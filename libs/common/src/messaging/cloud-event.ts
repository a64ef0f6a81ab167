import { randomUUID } from 'node:crypto';

/** CloudEvents 1.0 structured JSON with the `companyid` extension attribute. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: 'application/json';
  companyid?: string;
  data: T;
}

export function createCloudEvent<T>(input: {
  type: string;
  source: string;
  data: T;
  companyId?: string;
  id?: string;
  time?: Date;
}): CloudEvent<T> {
  const event: CloudEvent<T> = {
    specversion: '1.0',
    id: input.id ?? randomUUID(),
    source: input.source,
    type: input.type,
    time: (input.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data: input.data,
  };
  if (input.companyId !== undefined) event.companyid = input.companyId;
  return event;
}

/** The largest envelope a consumer reads: the EVENTS and JOBS streams' max_msg_size (topology.ts). */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

export class MalformedEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEnvelopeError';
  }
}

/** Parses and checks the envelope; the payload itself is checked by its contract. */
export function parseCloudEvent(bytes: Uint8Array, maxBytes: number): CloudEvent {
  if (bytes.length > maxBytes) throw new MalformedEnvelopeError(`message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw new MalformedEnvelopeError(`body is not JSON: ${(e as Error).message}`);
  }
  return checkCloudEvent(value);
}

/** Checks a decoded envelope's attributes (a single message's body, or one job of a pack). */
export function checkCloudEvent(value: unknown): CloudEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedEnvelopeError('body is not a JSON object');
  const v = value as Record<string, unknown>;
  const missing = ['id', 'source', 'type', 'specversion'].filter((k) => typeof v[k] !== 'string' || v[k] === '');
  if (missing.length) throw new MalformedEnvelopeError(`CloudEvent attribute(s) missing: ${missing.join(', ')}`);
  if (v.specversion !== '1.0') throw new MalformedEnvelopeError(`unsupported specversion "${String(v.specversion)}"`);
  if (v.companyid !== undefined && (typeof v.companyid !== 'string' || v.companyid === '')) {
    throw new MalformedEnvelopeError('companyid must be a non-empty string');
  }
  if (!('data' in v)) throw new MalformedEnvelopeError('CloudEvent has no data');
  return v as unknown as CloudEvent;
}

export function encodeCloudEvent(event: CloudEvent): Uint8Array {
  return Buffer.from(JSON.stringify(event));
}
