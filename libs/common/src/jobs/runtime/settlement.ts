import { Inject, Injectable, Optional } from '@nestjs/common';
import { deadLetterOf } from '../../dead-letters/dead-letter-of.js';
import { DeadLetterWriter } from '../../dead-letters/dead-letter.writer.js';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { backoffDelay } from '../../messaging/backoff.js';
import { errorText } from '../../messaging/errors.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import type { AttemptOutcome } from '../history/attempt-record.js';
import { redactedErrorText, redactSecretText } from '../../audit/redact-secrets.js';
import { errorStackOf, stackRootsOf } from '../history/error-stack.js';
import { HistoryWriter } from '../history/history-writer.js';
import { JobControl } from '../job-control.js';
import { isThenable } from '../../util/is-thenable.js';
import { AttemptLedger } from './attempt-ledger.js';
import { attemptRecordOf, stateOf, storedResult } from './attempt-record-of.js';
import { Deferrals } from './deferrals.js';
import { packMemberOf } from './pack-member.js';
import type { Delivery } from './delivery.js';
import { JOB_SETTLEMENT_OBSERVERS, type JobSettled, type JobSettlementObserver } from './job-settled.js';
import type { DeadReason, Outcome } from './outcome.js';
import { PendingSettlement, type SettleListener } from './pending-settlement.js';
import { RunSeries } from './run-series.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';

const LOST = 'the worker running this attempt stopped before it reported (it died, or stalled past the ack wait)';

/**
 * Settles one delivery from its outcome, always: the attempt (and any lost
 * before it) is committed to the run history first, then the message is acked
 * (succeeded, failed, cancelled), nak'd with the job's backoff (retrying) or
 * terminated with a dead letter (dead). A deferral (snooze) uses no attempt.
 * If the history or dead letter cannot be written, the message is left to come
 * back, so no outcome is ever lost.
 */
@Injectable()
export class Settlement {
  /** Stack frames are stored relative to the directory the service runs from (as given and with symlinks resolved). */
  private readonly root = stackRootsOf(process.cwd());
  private readonly series: RunSeries;

  constructor(
    private readonly history: HistoryWriter,
    private readonly deadLetters: DeadLetterWriter,
    private readonly deferrals: Deferrals,
    private readonly ledger: AttemptLedger,
    private readonly control: JobControl,
    private readonly heartbeat: WorkerHeartbeat,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    @Optional() @Inject(JOB_SETTLEMENT_OBSERVERS) private readonly observers: JobSettlementObserver[] = [],
  ) {
    this.series = new RunSeries(metrics);
  }

  /** A job this process runs: its lost attempts count from 0 (the series exists before the first one). */
  declare(job: string): void {
    this.metrics.lostAttempts.inc({ job }, 0);
  }

  /** `urgent`: a handler slot waits for this settlement, so its history batch goes at once instead of at the window's end. */
  settle(d: Delivery, outcome: Outcome, startedAt: Date, durationMs: number, urgent = false): Promise<void> {
    return new Promise((settled) => this.settleThen(d, outcome, startedAt, durationMs, urgent, { settled }));
  }

  /**
   * As `settle`, telling `after` once the delivery is settled (or left to come back) instead of returning a promise.
   * While its row waits for its batch, a job is held by one PendingSettlement, not by async frames, closures and
   * promises: under a backlog every job outlives several young GCs, so what it holds is promoted (the async frames
   * of settle and execute were a third of what a burn-down promoted per job, 2026-12-06).
   */
  settleThen(d: Delivery, outcome: Outcome, startedAt: Date, durationMs: number, urgent: boolean, after: SettleListener): void {
    try {
      if (outcome.kind === 'snooze') {
        this.deferrals.defer(d.msg, d.ledger, outcome.delayMs, d.spec.name, 'snoozed').then(() => after.settled(), (e: unknown) => this.unsettled(d, e, after));
        return;
      }
      if (outcome.kind === 'retry' && d.attempt >= d.maxAttempts) {
        this.log.warn({ runId: d.event.id, job: d.spec.name, attempt: d.attempt, error: redactedErrorText(outcome.error) }, 'job failed on its last attempt: dead-lettering');
        return this.settleThen(d, { kind: 'dead', error: outcome.error, reason: 'attempts_exhausted' }, startedAt, durationMs, urgent, after);
      }
      // What an attempt that did not succeed keeps of its error (history and dead letter): the message, with
      // credentials a careless client put in it (`password=…`, a URL's user-info) redacted; a success pays nothing.
      const error = outcome.kind === 'retry' || outcome.kind === 'dead' || outcome.kind === 'cancelled'
        ? (outcome.error === undefined ? null : redactedErrorText(outcome.error))
        : outcome.kind === 'failed' ? redactSecretText(outcome.result.message ?? 'failed') : null;
      if (outcome.kind !== 'dead') return this.recorded(d, outcome, startedAt, durationMs, urgent, error, after);
      this.deadLetters.write(deadLetterOf({
        msg: d.msg, event: d.event, stream: d.declaration.stream, consumer: d.declaration.durable, reason: outcome.reason, error: error ?? outcome.reason, attempts: d.attempt,
      })).then(() => this.recorded(d, outcome, startedAt, durationMs, urgent, error, after), (e: unknown) => this.unsettled(d, e, after));
    } catch (e) {
      this.unsettled(d, e, after);
    }
  }

  /** Records the attempt (and any lost before it); once committed, `committed` tells the observers and acks, naks or terminates. */
  private recorded(d: Delivery, outcome: Exclude<Outcome, { kind: 'snooze' }>, startedAt: Date, durationMs: number, urgent: boolean, error: string | null, after: SettleListener): void {
    try {
      const state = stateOf(outcome);
      const result = outcome.kind === 'succeeded' || outcome.kind === 'failed' ? storedResult(outcome.result, durationMs) : undefined;
      const stack = outcome.kind === 'retry' || outcome.kind === 'dead' ? errorStackOf(outcome.error, this.root) : null;
      const finishedAt = new Date(startedAt.getTime() + durationMs);
      const pending = new PendingSettlement(this, d, outcome, state, durationMs, finishedAt, error, after, 1 + d.lost.length);
      const worker = this.heartbeat.instance;
      this.history.recordThen(attemptRecordOf(d, worker, d.attempt, state, startedAt, finishedAt, durationMs, error, stack, result), urgent, pending);
      for (const attempt of d.lost) this.history.recordThen(attemptRecordOf(d, worker, attempt, 'lost', finishedAt, finishedAt, 0, LOST, null, undefined), urgent, pending);
    } catch (e) {
      this.unsettled(d, e, after);
    }
  }

  /**
   * @internal PendingSettlement's: every row is committed. Tells the observers, then settles the message. An
   * observer with nothing to wait for returns nothing, and the job then takes no promise or turn here.
   */
  committed(d: Delivery, outcome: Exclude<Outcome, { kind: 'snooze' }>, state: AttemptOutcome, durationMs: number, finishedAt: Date, error: string | null, after: SettleListener): void {
    try {
      if (d.lost.length) this.metrics.lostAttempts.inc({ job: d.spec.name }, d.lost.length);
      if (this.observers.length) {
        const settled: JobSettled = {
          runId: d.event.id, job: d.spec.name, companyId: d.parts.companyId ?? null, outcome: state, attempt: d.attempt, durationMs, finishedAt,
          event: d.event, result: outcome.kind === 'succeeded' || outcome.kind === 'failed' ? outcome.result : undefined, error: error ?? undefined,
        };
        for (let i = 0; i < this.observers.length; i++) {
          const told = this.observers[i].onJobSettled(settled);
          if (isThenable(told)) return void this.toldLater(told, i + 1, settled, d, outcome, state, durationMs, after);
        }
      }
    } catch (e) {
      return this.unsettled(d, e, after);
    }
    this.finish(d, outcome, state, durationMs, after);
  }

  /** `committed` after an observer returned a promise: the observers after it, in order, then the message. */
  private async toldLater(told: PromiseLike<void>, next: number, settled: JobSettled, d: Delivery, outcome: Exclude<Outcome, { kind: 'snooze' }>, state: AttemptOutcome, durationMs: number, after: SettleListener): Promise<void> {
    try {
      await told;
      for (let i = next; i < this.observers.length; i++) await this.observers[i].onJobSettled(settled);
    } catch (e) {
      return this.unsettled(d, e, after);
    }
    this.finish(d, outcome, state, durationMs, after);
  }

  /** Acks, terminates or (retrying) hands back the message, then counts the outcome. */
  private finish(d: Delivery, outcome: Exclude<Outcome, { kind: 'snooze' }>, state: AttemptOutcome, durationMs: number, after: SettleListener): void {
    const { msg } = d;
    try {
      if (state === 'retrying') {
        this.retryLater(d, outcome).then(() => this.counted(d, state, durationMs, after), (e: unknown) => this.unsettled(d, e, after));
        return;
      }
      if (state === 'dead') msg.term();
      else msg.ack();
      if (msg.info.deliveryCount > 1) this.ledger.forget(msg.info.stream, msg.info.streamSequence);
      if (state === 'cancelled') void this.control.cancellationDone(d.event.id);
    } catch (e) {
      return this.unsettled(d, e, after);
    }
    this.counted(d, state, durationMs, after);
  }

  /** A retried job comes back after its backoff: a pack's member as its own message, carrying the attempts it used. */
  private async retryLater(d: Delivery, outcome: Exclude<Outcome, { kind: 'snooze' }>): Promise<void> {
    const { msg } = d;
    const delay = outcome.kind === 'retry' && outcome.delayMs !== undefined ? outcome.delayMs : backoffDelay(d.backoff, d.attempt);
    const member = packMemberOf(msg);
    if (member) return member.handOff(delay, d.attempt);
    await this.ledger.note(msg.info.stream, msg.info.streamSequence, { deferrals: d.ledger.deferrals, settled: msg.info.deliveryCount }, true);
    msg.nak(delay);
  }

  private counted(d: Delivery, state: AttemptOutcome, durationMs: number, after: SettleListener): void {
    try {
      this.series.count(d.spec.name, d.priority, state, durationMs);
    } catch (e) {
      return this.unsettled(d, e, after);
    }
    after.settled();
  }

  /** @internal The history or the dead letter could not be written: leave the message to come back later. */
  unsettled(d: Delivery, e: unknown, after: SettleListener): void {
    this.log.error({ runId: d.event.id, job: d.spec.name, error: errorText(e) }, 'could not settle job: it will be delivered again');
    try {
      d.msg.nak(backoffDelay(d.backoff, d.attempt));
    } catch {
      // the connection is gone: the ack wait brings it back
    }
    after.settled();
  }

  /** Settles a delivery that never reached its handler (exhausted, malformed contract). */
  dead(d: Delivery, error: unknown, reason: DeadReason): Promise<void> {
    return this.settle(d, { kind: 'dead', error, reason }, new Date(), 0);
  }
}
