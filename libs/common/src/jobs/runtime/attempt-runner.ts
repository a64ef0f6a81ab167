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
import type { PreparedRun } from '../durability/durability.service.js';
import type { RunResult } from '../job.types.js';
import { AttemptContext } from './attempt-context.js';
import type { Delivery } from './delivery.js';
import type { JobSpec } from './job-spec.js';
import { isThenable } from '../../util/is-thenable.js';
import { normalizeResult, type Outcome } from './outcome.js';
import { WorkerHeartbeat, type RunningHandle } from './worker-heartbeat.js';
import { JobTimeoutPublisher } from '../timeouts/job-timeout.publisher.js';

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
  private readonly lateness = new Map<string, { observe(seconds: number): void }>();

  constructor(
    private readonly durability: DurabilityHooks,
    private readonly control: JobControl,
    private readonly heartbeat: WorkerHeartbeat,
    private readonly timeouts: JobTimeoutPublisher,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {
    // A cancellation is rare: it looks through the attempts running now (at most the process's slots).
    control.onCancel((runId, companyId) => {
      for (const r of heartbeat.runningNow()) {
        if (r.d.event.id === runId && (companyId === null || companyId === (r.d.parts.companyId ?? null))) r.abort.abort(new CancelledError('cancelled by an operator'));
      }
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

  /**
   * Runs the attempt. Synchronous as far as the work is: a handler that returns without a promise (and a run
   * that needs no flow lookup and whose payload passes its compiled contract) settles with no promise, timer
   * or async frame made for it; an async handler gets its timeout and abort race. Never throws.
   */
  run(d: Delivery): Outcome | Promise<Outcome> {
    const { spec, event, parts } = d;
    const runId = event.id;
    const companyId = parts.companyId;
    if (this.control.isCancelled(runId, companyId)) return { kind: 'cancelled', error: new CancelledError('cancelled before it started') };
    let durable: PreparedRun | Promise<PreparedRun>;
    try {
      // Sensitive fields are decrypted here, for the handler only (docs/durability.md).
      durable = this.durability.prepare({
        runId, job: spec.name, companyId, attempt: d.attempt, scheduledFor: parts.scheduledFor, payload: parts.payload, event,
        logger: lazyLogger(() => this.log.child({ runId, job: spec.name, companyId, attempt: d.attempt })),
      });
    } catch (e) {
      return { kind: 'retry', error: e };
    }
    if (isThenable(durable)) return durable.then((p) => this.checked(d, p), (e: unknown): Outcome => ({ kind: 'retry', error: e }));
    return this.checked(d, durable);
  }

  /** The payload checked against the job's contract (a promise only when class-validator must answer). */
  private checked(d: Delivery, durable: PreparedRun): Outcome | Promise<Outcome> {
    const contract = d.spec.options.payload;
    if (!contract) return this.started(d, durable, durable.payload);
    const valid = this.payloads.validSync<object>(d.spec.name, durable.payload);
    if (valid) return this.started(d, durable, valid);
    return this.payloads.validate(d.spec.name, durable.payload).then(
      (payload) => this.started(d, durable, payload),
      (e: unknown): Outcome => {
        durable.done();
        return { kind: 'dead', error: e, reason: 'invalid_payload' };
      },
    );
  }

  private started(d: Delivery, durable: PreparedRun, payload: unknown): Outcome | Promise<Outcome> {
    const { spec, parts } = d;
    const runId = d.event.id;
    const companyId = parts.companyId;
    if (d.attempt === 1 && parts.scheduledFor) {
      this.latenessOf(spec.name).observe(Math.max(0, Date.now() - parts.scheduledFor.getTime()) / 1000);
    }
    const abort = new AttemptAbort();
    const running = this.heartbeat.started(d, abort);
    if (this.control.isCancelled(runId, companyId)) abort.abort(new CancelledError('cancelled by an operator'));
    const attempt = new RunningAttempt(running, durable);
    // Cancelled between the checks and here: the handler does not start.
    if (abort.aborted) return attempt.ended(outcomeOfError(abort.reason));
    const t0 = performance.now();
    let returned: unknown;
    try {
      returned = spec.fn(new AttemptContext(d, payload, abort, running, durable));
    } catch (e) {
      return attempt.ended(outcomeOfError(e));
    }
    if (!isThenable(returned)) return attempt.ended(outcomeOfResult(returned as RunResult | void));
    // The timeout counts from the handler's start, its synchronous part included.
    return this.awaited(d, attempt, abort, returned as PromiseLike<RunResult | void>, Math.max(0, d.timeoutMs - (performance.now() - t0)));
  }

  private async awaited(d: Delivery, attempt: RunningAttempt, abort: AttemptAbort, work: PromiseLike<RunResult | void>, timeLeftMs: number): Promise<Outcome> {
    const timer = setTimeout(() => abort.abort(new JobTimeoutError(d.timeoutMs)), timeLeftMs);
    try {
      return attempt.ended(outcomeOfResult(await abort.race(Promise.resolve(work))));
    } catch (e) {
      const reason: unknown = abort.aborted ? abort.reason : undefined;
      if (reason instanceof CancelledError) return attempt.ended({ kind: 'cancelled', error: reason });
      if (reason instanceof JobTimeoutError) {
        attempt.durable.logger.warn({ timeoutMs: d.timeoutMs }, 'job timed out; retrying with backoff');
        this.timeouts.timedOut({ runId: d.event.id, job: d.spec.name, companyId: d.parts.companyId, attempt: d.attempt, maxAttempts: d.maxAttempts, timeoutMs: d.timeoutMs });
        return attempt.ended({ kind: 'retry', error: reason });
      }
      return attempt.ended(outcomeOfError(e));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What an attempt holds while its handler runs, released once when it ends. */
class RunningAttempt {
  private over = false;

  constructor(
    private readonly running: RunningHandle,
    readonly durable: PreparedRun,
  ) {}

  ended(outcome: Outcome): Outcome {
    if (this.over) return outcome;
    this.over = true;
    this.running.done();
    this.durable.done();
    return outcome;
  }
}

function outcomeOfResult(returned: RunResult | void): Outcome {
  const result = normalizeResult(returned);
  return result.status === 'failure' ? { kind: 'failed', result } : { kind: 'succeeded', result };
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
