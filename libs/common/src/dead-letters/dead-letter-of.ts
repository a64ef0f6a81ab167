import type { JsMsg } from '@nats-io/jetstream';
import type { CloudEvent } from '../messaging/cloud-event.js';
import type { DeadLetterRecord } from './dead-letter.repository.js';

/** The dead_letters row for a message: original subject, headers and body, why and after how many attempts. */
export function deadLetterOf(input: {
  msg: JsMsg;
  event: CloudEvent | undefined;
  stream: string;
  consumer: string;
  reason: string;
  error: string;
  attempts: number;
}): DeadLetterRecord {
  const { msg, event } = input;
  const headers: Record<string, string[]> = {};
  if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v;
  const now = new Date();
  return {
    id: event?.id ?? `${input.stream}-${msg.info.streamSequence}`,
    stream: input.stream,
    consumer: input.consumer,
    subject: msg.subject,
    messageType: event?.type ?? null,
    companyId: event?.companyid ?? null,
    headers,
    payload: Buffer.from(msg.data).toString('utf8'),
    reason: input.reason,
    error: input.error,
    attempts: input.attempts,
    // A message failing on its first delivery failed now; otherwise the first failure came soon after it was published.
    firstFailedAt: input.attempts > 1 ? msg.time : now,
    lastFailedAt: now,
    runId: event?.id ?? null,
  };
}
