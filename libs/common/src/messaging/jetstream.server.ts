import { Inject, Injectable, Optional } from '@nestjs/common';
import { CustomTransportStrategy, Server, type MessageHandler } from '@nestjs/microservices';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { lastValueFrom } from 'rxjs';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { deadLetterOf } from '../dead-letters/dead-letter-of.js';
import { DeadLetterWriter } from '../dead-letters/dead-letter.writer.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { Semaphore } from '../util/semaphore.js';
import { backoffDelay } from './backoff.js';
import { MalformedEnvelopeError, MAX_ENVELOPE_BYTES, parseCloudEvent, type CloudEvent } from './cloud-event.js';
import { ContractRegistry } from './contracts/contract-registry.js';
import { redactedErrorText } from '../audit/redact-secrets.js';
import { CancelledError, errorText, InvalidPayloadError, PermanentError, RetryableError, SnoozeError } from './errors.js';
import { JetStreamContext } from './jetstream.context.js';
import { NatsConnectionService } from './nats-connection.service.js';
import { platformScopeProblem } from './platform-scope.js';
import type { ConsumerDeclaration } from './topology.js';

export const SERVED_CONSUMERS = Symbol('SERVED_CONSUMERS');
export const SETTLEMENT_OBSERVERS = Symbol('SETTLEMENT_OBSERVERS');

export type Settlement = 'acked' | 'retried' | 'dead' | 'invalid' | 'ignored' | 'cancelled';

export interface SettledMessage {
  consumer: string;
  event?: CloudEvent;
  subject: string;
  settlement: Settlement;
  attempt: number;
  durationMs: number;
  error?: string;
}

/** Sees every settled message, before the ack: e.g. the run history recorder. */
export interface SettlementObserver {
  onSettled(message: SettledMessage): Promise<void>;
}

/**
 * A domain event's subject names its tenant (events.<companyId>.<type>), and
 * subject permissions are granted per tenant: the envelope must name the same
 * tenant, or a publisher allowed on one tenant's subjects could act on another
 * (handlers trust ctx.companyId, the envelope's). Null when they agree.
 */
export function subjectTenantProblem(subject: string, event: CloudEvent): string | null {
  if (!subject.startsWith('events.')) return null;
  const tokens = subject.split('.');
  if (tokens.length < 3) return null;
  if (event.companyid === undefined) return `the event names no tenant (companyid) but its subject names "${tokens[1]}"`;
  if (event.companyid !== tokens[1]) return `the event's tenant "${event.companyid}" differs from its subject's "${tokens[1]}"`;
  return platformScopeProblem(tokens[1], event);
}

class ConsumerLoop {
  readonly slots: Semaphore;
  messages?: ConsumerMessages;
  stopped = false;
  constructor(readonly declaration: ConsumerDeclaration) {
    this.slots = new Semaphore(declaration.concurrency);
  }
}

/**
 * A Nest microservice transport over JetStream durable pull consumers. Handlers
 * are `@EventPattern(<message type>)` methods; the host validates the payload,
 * bounds concurrency and always settles the message: ack, nak(delay), or term
 * plus a dead-letter record.
 */
@Injectable()
export class JetStreamServer extends Server implements CustomTransportStrategy {
  override readonly propagatesEventHandlerErrors = true;
  private readonly loops: ConsumerLoop[] = [];
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    @Inject(SERVED_CONSUMERS) private readonly consumers: ConsumerDeclaration[],
    private readonly nats: NatsConnectionService,
    private readonly contracts: ContractRegistry,
    private readonly deadLetters: DeadLetterWriter,
    private readonly metrics: MetronomeMetrics,
    @Optional() @Inject(SETTLEMENT_OBSERVERS) private readonly observers: SettlementObserver[] = [],
  ) {
    super();
  }

  on(): never {
    throw new Error('JetStreamServer does not support event listeners');
  }

  unwrap<T>(): T {
    return this.nats as T;
  }

  /** Fails loudly on a handler without a contract or a handler registered twice. */
  checkHandlers(): void {
    const problems: string[] = [];
    for (const [pattern, handler] of this.getHandlers()) {
      if (!handler.isEventHandler) problems.push(`"${pattern}" is a @MessagePattern: JetStream consumers take @EventPattern handlers only`);
      if ((handler as MessageHandler & { next?: unknown }).next) problems.push(`"${pattern}" has more than one handler`);
      if (!this.contracts.has(pattern)) problems.push(`"${pattern}" has no payload contract`);
    }
    if (this.consumers.length > 0 && this.getHandlers().size === 0) problems.push('consumers are declared but no handler is registered');
    if (problems.length) throw new Error(`JetStream handlers are misdeclared:\n  - ${problems.join('\n  - ')}`);
  }

  private readonly handlerCache = new Map<string, MessageHandler | null>();

  /** getHandlerByPattern normalises the pattern with a JSON.parse that throws for every plain type: look each type up once. */
  private handlerFor(type: string): MessageHandler | null {
    let handler = this.handlerCache.get(type);
    if (handler === undefined) {
      handler = this.getHandlerByPattern(type);
      if (handler) this.handlerCache.set(type, handler);
    }
    return handler;
  }

  async listen(callback: (...args: unknown[]) => void): Promise<void> {
    try {
      this.checkHandlers();
      const js = await this.nats.js();
      for (const declaration of this.consumers) {
        const consumer = await js.consumers.get(declaration.stream, declaration.durable);
        const loop = new ConsumerLoop(declaration);
        loop.messages = await consumer.consume({ max_messages: declaration.concurrency, expires: 5_000 });
        this.loops.push(loop);
        void this.run(loop);
        this.log.info({ consumer: declaration.durable, concurrency: declaration.concurrency }, 'consumer started');
      }
      callback();
    } catch (e) {
      callback(e);
    }
  }

  private async run(loop: ConsumerLoop): Promise<void> {
    const name = loop.declaration.durable;
    try {
      for await (const msg of loop.messages!) {
        if (this.closing) {
          msg.nak(0);
          continue;
        }
        await loop.slots.acquire();
        this.metrics.handlersInFlight.inc({ consumer: name });
        void this.process(loop.declaration, msg).finally(() => {
          loop.slots.release();
          this.metrics.handlersInFlight.dec({ consumer: name });
        });
      }
    } catch (e) {
      if (!this.closing) this.log.error({ consumer: name, error: errorText(e) }, 'consumer loop ended');
    }
  }

  /**
   * Runs the host's validate/handle/settle path for a message pulled elsewhere
   * (the job runtime's scheduler). `attempt` overrides the delivery count when
   * the caller counts attempts itself (deferrals that nak without failing);
   * `event` is the envelope the caller already parsed from `msg`, so it is not parsed twice.
   */
  dispatch(declaration: ConsumerDeclaration, msg: JsMsg, attempt?: number, event?: CloudEvent): Promise<void> {
    return this.process(declaration, msg, attempt, event);
  }

  private async process(declaration: ConsumerDeclaration, msg: JsMsg, attemptOverride?: number, parsed?: CloudEvent): Promise<void> {
    const started = performance.now();
    const attempt = attemptOverride ?? msg.info.deliveryCount;
    if (attempt > 1) this.metrics.redeliveries.inc({ consumer: declaration.durable });
    let event: CloudEvent | undefined;
    const settle = async (settlement: Settlement, error?: unknown, reason?: string): Promise<void> => {
      const durationMs = performance.now() - started;
      // Error text goes to observers and the dead letter with credentials a careless client (or a body quoted by a JSON parse error) put in it redacted.
      const text = error === undefined ? undefined : redactedErrorText(error);
      const settled: SettledMessage = { consumer: declaration.durable, event, subject: msg.subject, settlement, attempt, durationMs, error: text };
      for (const o of this.observers) await o.onSettled(settled);
      if (settlement === 'dead' || settlement === 'invalid') {
        await this.deadLetter(declaration, msg, event, reason ?? settlement, text ?? settlement, attempt);
        // No reason argument: nats-server 2.9 ignores a +TERM that carries one and redelivers the message.
        msg.term();
      } else if (settlement === 'retried') {
        const delay = error instanceof RetryableError && error.delayMs !== undefined
          ? error.delayMs
          : error instanceof SnoozeError
            ? error.delayMs
            : backoffDelay(declaration.backoff, attempt);
        msg.nak(delay);
      } else {
        msg.ack();
      }
      const pattern = event?.type ?? 'unknown';
      this.metrics.handlerMessages.inc({ consumer: declaration.durable, subject: pattern, outcome: settlement });
      this.metrics.handlerDuration.observe({ consumer: declaration.durable, subject: pattern, outcome: settlement }, durationMs / 1000);
    };

    try {
      try {
        event = parsed ?? parseCloudEvent(msg.data, MAX_ENVELOPE_BYTES);
      } catch (e) {
        return await settle('invalid', e, 'malformed');
      }
      const handler = this.handlerFor(event.type);
      if (!handler) return await settle('ignored');
      const tenantProblem = subjectTenantProblem(msg.subject, event);
      if (tenantProblem) return await settle('invalid', new InvalidPayloadError(tenantProblem), 'tenant_mismatch');
      if (attempt > declaration.maxAttempts) {
        return await settle('dead', new Error(`attempts exhausted: delivered ${attempt} times, the handler never settled it`), 'attempts_exhausted');
      }
      let payload: object;
      try {
        payload = await this.contracts.validate(event.type, event.data);
      } catch (e) {
        return await settle('invalid', e, 'invalid_payload');
      }
      const context = new JetStreamContext(msg, event, declaration.durable);
      try {
        const result = await handler(payload, context);
        await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      } catch (e) {
        const logger = this.log.child({ consumer: declaration.durable, eventId: event.id, companyId: event.companyid, type: event.type, attempt });
        if (e instanceof InvalidPayloadError) return await settle('invalid', e, 'invalid_payload');
        if (e instanceof PermanentError) return await settle('dead', e, 'permanent_error');
        if (e instanceof CancelledError) return await settle('cancelled', e);
        if (e instanceof SnoozeError) return await settle('retried', e);
        if (attempt >= declaration.maxAttempts) {
          logger.warn({ error: redactedErrorText(e) }, 'handler failed on its last attempt: dead-lettering');
          return await settle('dead', e, 'attempts_exhausted');
        }
        logger.info({ error: redactedErrorText(e) }, 'handler failed: retrying with backoff');
        return await settle('retried', e);
      }
      return await settle('acked');
    } catch (e) {
      // Settling itself failed (database down while dead-lettering): leave the message to be redelivered later.
      this.log.error({ consumer: declaration.durable, error: errorText(e) }, 'could not settle message: retrying later');
      try {
        msg.nak(backoffDelay(declaration.backoff, attempt));
      } catch {
        // The connection is gone: the ack wait redelivers it.
      }
    }
  }

  private async deadLetter(
    declaration: ConsumerDeclaration,
    msg: JsMsg,
    event: CloudEvent | undefined,
    reason: string,
    error: string,
    attempts: number,
  ): Promise<void> {
    await this.deadLetters.write(deadLetterOf({ msg, event, stream: declaration.stream, consumer: declaration.durable, reason, error, attempts }));
  }

  /** Stops pulling, lets in-flight handlers finish within the grace period. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const loop of this.loops) {
      try {
        loop.messages?.stop();
      } catch {
        // already stopped
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.config.shutdownGraceMs)));
    const outcome = await Promise.race([Promise.all(this.loops.map((l) => l.slots.idle())), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.log.warn({ graceMs: this.config.shutdownGraceMs }, 'handlers still running at the end of the grace period');
    this.log.info('consumers stopped');
  }
}
