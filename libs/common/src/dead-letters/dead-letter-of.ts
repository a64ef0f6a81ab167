import type { JsMsg } from '@nats-io/jetstream';
import type { CloudEvent } from '../messaging/cloud-event.js';
import { postgresText } from '../util/postgres-text.js';
import type { DeadLetterRecord } from './dead-letter.repository.js';

/**
 * The dead_letters row for a message: original subject, headers and body, why and after how many attempts.
 * Text from the message (body, headers, an error quoting it) has its NULs replaced: a bad message must reach
 * the DLQ whatever bytes it holds.
 */
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
  if (msg.headers) for (const [k, v] of msg.headers) headers[postgresText(k)] = v.map(postgresText);
  const now = new Date();
  return {
    id: postgresText(event?.id ?? `${input.stream}-${msg.info.streamSequence}`),
    stream: input.stream,
    consumer: input.consumer,
    subject: postgresText(msg.subject),
    messageType: event?.type == null ? null : postgresText(event.type),
    companyId: event?.companyid == null ? null : postgresText(event.companyid),
    headers,
    payload: postgresText(Buffer.from(msg.data).toString('utf8')),
    reason: input.reason,
    error: postgresText(input.error),
    attempts: input.attempts,
    // A message failing on its first delivery failed now; otherwise the first failure came soon after it was published.
    firstFailedAt: input.attempts > 1 ? msg.time : now,
    lastFailedAt: now,
    runId: event?.id == null ? null : postgresText(event.id),
  };
}
