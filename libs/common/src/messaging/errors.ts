import { NoRespondersError, RequestError } from '@nats-io/transport-node';
import { redactUrl } from '../util/redact-url.js';

/**
 * Typed failures: the transport decides retry or dead-letter by type, never by
 * matching error text.
 */
export class RetryableError extends Error {
  /** When set, overrides the consumer's backoff for this attempt. */
  constructor(message: string, readonly delayMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** The payload does not satisfy its contract: never retried. */
export class InvalidPayloadError extends PermanentError {
  constructor(message: string, readonly problems: string[] = []) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

/** Re-queue without counting as a failure (river's JobSnooze). */
export class SnoozeError extends Error {
  constructor(readonly delayMs: number) {
    super(`snoozed for ${delayMs} ms`);
    this.name = 'SnoozeError';
  }
}

/** The run was cancelled by an operator: settle it, do not retry. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export class StreamMissingError extends Error {
  constructor(subject: string) {
    super(`no JetStream stream captures subject "${subject}": run "npm run provision" (or start with NATS_PROVISION_ON_START=true)`);
    this.name = 'StreamMissingError';
  }
}

/** JetStream did not store a message: it refused it, or its ack did not come in time. */
export class PublishFailedError extends Error {
  constructor(subject: string, reason: string) {
    super(`publishing to "${subject}" failed: ${reason}`);
    this.name = 'PublishFailedError';
  }
}

/**
 * How long a publish nobody answered is tried again: a new stream is visible
 * before it listens on its subjects, and a clustered stream does not listen
 * while it elects a leader. About 1.5 s in all, so a subject no stream
 * captures (a misconfiguration) still fails soon.
 */
export const NOT_LISTENING_RETRY_MS = [25, 50, 100, 200, 400, 800];

/**
 * A JetStream publish nobody answered: no stream listens on the subject, so
 * nothing stored the message and publishing it again cannot duplicate it.
 * nats.js reports this as JetStreamNotEnabled caused by a no-responders RequestError.
 */
export function isNoStreamListening(e: unknown): boolean {
  if (e instanceof NoRespondersError) return true;
  const cause = (e as { cause?: unknown })?.cause;
  return cause instanceof NoRespondersError || (cause instanceof RequestError && cause.isNoResponders());
}

/**
 * An error as text for logs, run history and dead letters. URLs with
 * credentials in it are redacted: fetch, for one, quotes the whole URL
 * (password included) when it refuses one with credentials.
 */
export function errorText(error: unknown): string {
  return redactUrl(rawErrorText(error));
}

function rawErrorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
