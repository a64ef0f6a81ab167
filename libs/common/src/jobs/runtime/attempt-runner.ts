import { Inject, Injectable } from '@nestjs/common';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { lazyLogger } from '../../logging/lazy-logger.js';
import { ContractRegistry } from '../../messaging/contracts/contract-registry.js';
import { CancelledError, errorText, InvalidPayloadError, PermanentError, RetryableError, SnoozeError } from '../../messaging/errors.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import { AttemptAbort } from '../attempt-abort.js';
import { DurabilityHooks } from '../durability/durability.service.js';
import { JobControl } from '../job-control.js';
import { AttemptContext } from './attempt-context.js';
import type { Delivery } from './delivery.js';
import type { JobSpec } from './job-spec.js';
import { normalizeResult, type Outcome } from './outcome.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';
import { JobTimeoutPublisher } from '../timeouts/job-timeout.publisher.js';
import { ClearingMap } from '../../util/clearing-map.js';

/** The handler ran out of time: its signal aborted and the attempt is retried with backoff. */
export class JobTimeoutError extends RetryableError {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'JobTimeoutError';
  }
}

/**
 * Runs one attempt of one job: decrypts and checks its payload, gives the
 * handler its context (logger, signal, progress, steps), enforces the
 * timeout, honours a cancellation, and turns whatever happens into an Outcome
 * by the error's type. Never throws.
 */
@Injectable()
export class AttemptRunner {
  private readonly payloads = new ContractRegistry();
  private readonly active = new ClearingMap<string, { abort: AttemptAbort; companyId: string | null }>();
  private readonly lateness = new Map<string, { observe(seconds: number): void }>();

  constructor(
    private readonly durability: DurabilityHooks,
    private readonly control: JobControl,
    private readonly heartbeat: WorkerHeartbeat,
    private readonly timeouts: JobTimeoutPublisher,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {
    control.onCancel((runId, companyId) => {
      const a = this.active.get(runId);
      if (a && (companyId === null || companyId === a.companyId)) a.abort.abort(new CancelledError('cancelled by an operator'));
    });
  }

  /** The job's started-lateness histogram, label-bound once. */
  private latenessOf(job: string): { observe(seconds: number): void } {
    let series = this.lateness.get(job);
    if (!series) this.lateness.set(job, (series = this.metrics.jobLateness.bind({ job, stage: 'started' })));
    return series;
  }

  /** Registers a handler's payload contract. */
  register(spec: JobSpec): void {
    if (spec.options.payload) this.payloads.register(spec.name, spec.options.payload);
    this.timeouts.declare(spec.name);
  }

  async run(d: Delivery): Promise<Outcome> {
    const { spec, event, parts } = d;
    const runId = event.id;
    const companyId = parts.companyId;
    if (this.control.isCancelled(runId, companyId)) return { kind: 'cancelled', error: new CancelledError('cancelled before it started') };
    let durable;
    try {
      // Sensitive fields are decrypted here, for the handler only (docs/durability.md).
      durable = await this.durability.prepare({
        runId, job: spec.name, companyId, attempt: d.attempt, scheduledFor: parts.scheduledFor, payload: parts.payload, event,
        logger: lazyLogger(() => this.log.child({ runId, job: spec.name, companyId, attempt: d.attempt })),
      });
    } catch (e) {
      return { kind: 'retry', error: e };
    }
    let payload: unknown = durable.payload;
    if (spec.options.payload) {
      try {
        payload = await this.payloads.validate(spec.name, durable.payload);
      } catch (e) {
        durable.done();
        return { kind: 'dead', error: e, reason: 'invalid_payload' };
      }
    }
    if (d.attempt === 1 && parts.scheduledFor) {
      this.latenessOf(spec.name).observe(Math.max(0, Date.now() - parts.scheduledFor.getTime()) / 1000);
    }
    const abort = new AttemptAbort();
    const timer = setTimeout(() => abort.abort(new JobTimeoutError(d.timeoutMs)), d.timeoutMs);
    this.active.set(runId, { abort, companyId: companyId ?? null });
    const running = this.heartbeat.started(d);
    if (this.control.isCancelled(runId, companyId)) abort.abort(new CancelledError('cancelled by an operator'));
    const logger = durable.logger;
    const context = new AttemptContext(d, payload, abort, running, durable);
    try {
      const result = normalizeResult(await abort.race(Promise.resolve().then(() => spec.fn(context))));
      return result.status === 'failure' ? { kind: 'failed', result } : { kind: 'succeeded', result };
    } catch (e) {
      const reason: unknown = abort.aborted ? abort.reason : undefined;
      if (reason instanceof CancelledError) return { kind: 'cancelled', error: reason };
      if (reason instanceof JobTimeoutError) {
        logger.warn({ timeoutMs: d.timeoutMs }, 'job timed out; retrying with backoff');
        this.timeouts.timedOut({ runId, job: spec.name, companyId, attempt: d.attempt, maxAttempts: d.maxAttempts, timeoutMs: d.timeoutMs });
        return { kind: 'retry', error: reason };
      }
      return outcomeOfError(e);
    } finally {
      clearTimeout(timer);
      running.done();
      durable.done();
      this.active.delete(runId);
    }
  }
}

/** What a thrown error means, by its type only. */
export function outcomeOfError(e: unknown): Outcome {
  if (e instanceof SnoozeError) return { kind: 'snooze', delayMs: e.delayMs };
  if (e instanceof CancelledError) return { kind: 'cancelled', error: e };
  if (e instanceof InvalidPayloadError) return { kind: 'dead', error: e, reason: 'invalid_payload' };
  if (e instanceof PermanentError) return { kind: 'dead', error: e, reason: 'permanent_error' };
  if (e instanceof RetryableError) return { kind: 'retry', error: e, delayMs: e.delayMs };
  return { kind: 'retry', error: e instanceof Error ? e : new Error(errorText(e)) };
}
