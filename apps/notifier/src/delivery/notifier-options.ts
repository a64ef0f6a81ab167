import { Injectable } from '@nestjs/common';
import type { CircuitBreakerOptions } from '../../../../libs/common/src/index.js';

/** Tunables of the delivery path (tests override the provider). */
@Injectable()
export class NotifierOptions {
  /** A deferred delivery comes back at most this late, to re-check preferences that changed meanwhile. */
  quietRecheckMaxMs = 15 * 60_000;
  /** A webhook call that takes longer is a retryable failure. */
  webhookTimeoutMs = 10_000;
  /** The `smtp` circuit: 5 consecutive failures open it for 30 s, then one probe (libs/common/src/outbound/circuit-breaker.ts). */
  smtpCircuit: CircuitBreakerOptions = {};
}
