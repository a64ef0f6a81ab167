import { Inject, Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { APP_CONFIG, CircuitBreakers, PermanentError, RetryableError, ROOT_LOGGER, SnoozeError, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { WebhookTargetError, WebhookTargets, type WebhookTarget } from '../webhooks/webhook-targets.js';
import { NotifierOptions } from './notifier-options.js';

export const SIGNATURE_HEADER = 'Metronome-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/** An error code of node's (ECONNREFUSED, CERT_HAS_EXPIRED): safe to store, it names no host. */
function codeOf(e: unknown): string | null {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : null;
}

/**
 * POSTs a signed JSON body behind a `webhook:<host>` circuit breaker. The URL is
 * checked again and its host resolved now; the request goes to that checked
 * address (Host header and TLS SNI carry the name), redirects are not
 * followed, at most WEBHOOK_MAX_RESPONSE_BYTES of the answer are read. 2xx:
 * sent; 5xx, 429, timeout, network: RetryableError; other statuses (3xx, 4xx)
 * and a target that is not allowed: PermanentError (not counted against the
 * circuit); circuit open: SnoozeError. Error texts, which tenant viewers see in
 * run history and deliveries, name no host or address: the details are logged.
 */
@Injectable()
export class WebhookSender {
  constructor(
    private readonly options: NotifierOptions,
    private readonly breakers: CircuitBreakers,
    private readonly targets: WebhookTargets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  private readonly registered = new Set<string>();

  async send(url: string, secret: string, payload: unknown, deliveryId: string, now: Date): Promise<number> {
    let dependency: string;
    try {
      dependency = `webhook:${new URL(url).host}`;
    } catch {
      throw new WebhookError(new PermanentError('webhook: the stored URL is not valid'), null);
    }
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
    let target: WebhookTarget;
    try {
      target = await this.targets.resolve(url);
    } catch (e) {
      if (!(e instanceof WebhookTargetError)) throw e;
      this.log.warn({ deliveryId, code: e.code, reason: e.reason }, 'webhook target refused at connect time');
      const failure = e.code === 'unresolvable' ? new RetryableError('webhook: the host name does not resolve') : new PermanentError(`webhook: ${e.message.replace(/^url: /, '')}`);
      throw new WebhookError(failure, null);
    }
    const body = JSON.stringify(payload);
    let status: number;
    try {
      status = await this.exchange(target, body, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
        [SIGNATURE_HEADER]: signature(secret, body, Math.floor(now.getTime() / 1000)),
        'Metronome-Delivery-Id': deliveryId,
      });
    } catch (e) {
      const timedOut = (e as { name?: string })?.name === 'AbortError' || (e as { name?: string })?.name === 'TimeoutError';
      this.log.warn({ deliveryId, address: target.address, error: (e as Error)?.message }, 'webhook call failed');
      const text = timedOut ? `webhook: no answer within ${this.options.webhookTimeoutMs} ms` : `webhook: connection failed${codeOf(e) ? ` (${codeOf(e)})` : ''}`;
      throw new WebhookError(new RetryableError(text, undefined, { cause: e }), null);
    }
    if (status >= 200 && status < 300) return status;
    if (status >= 500 || status === 429) throw new WebhookError(new RetryableError(`webhook answered ${status}`), status);
    const note = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    throw new WebhookError(new PermanentError(`webhook answered ${status}${note}`), status);
  }

  /** One request to the checked address; resolves with the status once at most maxResponseBytes of the body were read. */
  private exchange(target: WebhookTarget, body: string, headers: Record<string, string>): Promise<number> {
    const { url } = target;
    const options: RequestOptions & { servername?: string } = {
      method: 'POST',
      host: target.address,
      family: target.family,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, Host: url.host },
      signal: AbortSignal.timeout(this.options.webhookTimeoutMs),
      agent: false,
    };
    if (target.servername) options.servername = target.servername;
    const max = this.config.webhooks.maxResponseBytes;
    return new Promise<number>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        const done = () => resolve(status);
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // Enough: the status is all that counts; the rest of an endless or huge body is not read.
          if (read > max) {
            res.removeAllListeners('data');
            res.destroy();
            done();
          }
        });
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Carries the typed failure and the status code (for the delivery record). */
export class WebhookError extends Error {
  constructor(readonly failure: RetryableError | PermanentError | SnoozeError, readonly statusCode: number | null) {
    super(failure.message);
  }
}
