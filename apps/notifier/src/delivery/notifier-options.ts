import { Injectable } from '@nestjs/common';

/** Tunables of the delivery path (tests override the provider). */
@Injectable()
export class NotifierOptions {
  /** A deferred delivery comes back at most this late, to re-check preferences that changed meanwhile. */
  quietRecheckMaxMs = 15 * 60_000;
  /** A webhook call that takes longer is a retryable failure. */
  webhookTimeoutMs = 10_000;
}
