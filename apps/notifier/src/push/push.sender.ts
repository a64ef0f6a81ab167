import { Inject, Injectable } from '@nestjs/common';
import webpush from 'web-push';
import { APP_CONFIG, CircuitBreakers, PermanentError, RetryableError, SnoozeError, type AppConfig, type VapidConfig } from '../../../../libs/common/src/index.js';
import { NotifierOptions } from '../delivery/notifier-options.js';
import type { PushSubscription } from './push.types.js';

/** How long a push service keeps a message for an offline browser (RFC 8030 TTL). */
export const PUSH_TTL_SECONDS = 24 * 3600;

export interface PushMessage {
  /** The plaintext the browser's service worker receives (encrypted here, RFC 8291 aes128gcm). */
  payload: string;
  urgency: 'normal' | 'high';
}

/**
 * Sends one Web Push message (RFC 8030) to one subscription: the payload is
 * encrypted for the browser (RFC 8291, aes128gcm) and the request signed with
 * the VAPID key (RFC 8292), both by the `web-push` package; the request itself
 * goes through fetch behind a `push:<host>` circuit breaker. 201/2xx: sent;
 * 404/410: the subscription is gone (PushGoneError); 429, 5xx, timeout,
 * network: retryable; other 4xx: permanent (it does not count against the
 * circuit); circuit open: snoozed.
 */
@Injectable()
export class PushSender {
  private readonly vapid?: VapidConfig;
  private readonly registered = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly options: NotifierOptions,
    private readonly breakers: CircuitBreakers,
  ) {
    this.vapid = config.notifier.push;
  }

  /** False when no VAPID keys are configured: the push channel is off. */
  get enabled(): boolean {
    return this.vapid !== undefined;
  }

  /** The applicationServerKey a browser subscribes with. */
  get publicKey(): string | undefined {
    return this.vapid?.publicKey;
  }

  async send(sub: PushSubscription, message: PushMessage): Promise<number> {
    if (!this.vapid) throw new PermanentError('push is not configured (PUSH_VAPID_PUBLIC_KEY, PUSH_VAPID_PRIVATE_KEY, PUSH_VAPID_SUBJECT)');
    const dependency = `push:${new URL(sub.endpoint).host}`;
    if (!this.registered.has(dependency)) {
      // A refused or expired subscription is that browser's problem, not the push service being down.
      this.breakers.register(dependency, { isFailure: (e) => !(e instanceof SnoozeError) && !(e instanceof PushGoneError) && !(e instanceof PermanentError) });
      this.registered.add(dependency);
    }
    return this.breakers.call(dependency, () => this.post(sub, message, this.vapid!));
  }

  private async post(sub: PushSubscription, message: PushMessage, vapid: VapidConfig): Promise<number> {
    let request: webpush.RequestDetails;
    try {
      request = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, message.payload, {
        vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        TTL: PUSH_TTL_SECONDS,
        urgency: message.urgency,
        contentEncoding: 'aes128gcm',
      });
    } catch (e) {
      // Keys the browser gave that cannot be encrypted for: retrying changes nothing.
      throw new PermanentError(`push: ${(e as Error).message}`, { cause: e });
    }
    let res: Response;
    try {
      res = await fetch(request.endpoint, {
        method: 'POST',
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      throw new RetryableError(`push: ${(e as Error).message}`, undefined, { cause: e });
    }
    if (res.status >= 200 && res.status < 300) return res.status;
    if (res.status === 404 || res.status === 410) throw new PushGoneError(res.status);
    if (res.status >= 500 || res.status === 429) throw new RetryableError(`push service answered ${res.status}`, retryAfterMs(res.headers.get('retry-after')));
    throw new PermanentError(`push service answered ${res.status}`);
  }
}

/** The push service no longer knows the subscription (404/410): it is dropped, never retried. */
export class PushGoneError extends Error {
  constructor(readonly statusCode: number) {
    super(`push subscription is gone (${statusCode})`);
    this.name = 'PushGoneError';
  }
}

/** Retry-After in seconds (RFC 9110; the HTTP-date form is left to the backoff). */
function retryAfterMs(header: string | null): number | undefined {
  if (!header || !/^\d{1,6}$/.test(header.trim())) return undefined;
  return Math.min(Number(header.trim()) * 1000, 3_600_000);
}
