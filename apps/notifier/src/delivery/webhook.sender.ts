import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { CircuitBreakers, PermanentError, RetryableError, SnoozeError } from '../../../../libs/common/src/index.js';
import { NotifierOptions } from './notifier-options.js';

export const SIGNATURE_HEADER = 'Metronome-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * POSTs a signed JSON body behind a `webhook:<host>` circuit breaker. 2xx: sent;
 * 5xx, 429, timeout, network: RetryableError; other 4xx: PermanentError (does
 * not count against the circuit); circuit open: SnoozeError.
 */
@Injectable()
export class WebhookSender {
  constructor(
    private readonly options: NotifierOptions,
    private readonly breakers: CircuitBreakers,
  ) {}

  private readonly registered = new Set<string>();

  async send(url: string, secret: string, payload: unknown, deliveryId: string, now: Date): Promise<number> {
    const dependency = `webhook:${new URL(url).host}`;
    if (!this.registered.has(dependency)) {
      // A 4xx is the receiver refusing this message, not the receiver being down.
      this.breakers.register(dependency, { isFailure: (e) => !(e instanceof SnoozeError) && !(e instanceof WebhookError && e.failure instanceof PermanentError) });
      this.registered.add(dependency);
    }
    try {
      return await this.breakers.call(dependency, () => this.post(url, secret, payload, deliveryId, now));
    } catch (e) {
      if (e instanceof WebhookError || !(e instanceof SnoozeError)) throw e;
      throw new WebhookError(e, null);
    }
  }

  private async post(url: string, secret: string, payload: unknown, deliveryId: string, now: Date): Promise<number> {
    const body = JSON.stringify(payload);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          [SIGNATURE_HEADER]: signature(secret, body, Math.floor(now.getTime() / 1000)),
          'Metronome-Delivery-Id': deliveryId,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      throw new WebhookError(new RetryableError(`webhook: ${(e as Error).message}`, undefined, { cause: e }), null);
    }
    if (res.status >= 200 && res.status < 300) return res.status;
    if (res.status >= 500 || res.status === 429) throw new WebhookError(new RetryableError(`webhook answered ${res.status}`), res.status);
    throw new WebhookError(new PermanentError(`webhook answered ${res.status}`), res.status);
  }
}

/** Carries the typed failure and the status code (for the delivery record). */
export class WebhookError extends Error {
  constructor(readonly failure: RetryableError | PermanentError | SnoozeError, readonly statusCode: number | null) {
    super(failure.message);
  }
}
