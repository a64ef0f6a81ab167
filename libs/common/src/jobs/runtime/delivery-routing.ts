import { Inject, Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { CancelledError, errorText } from '../../messaging/errors.js';
import type { ConsumerDeclaration } from '../../messaging/topology.js';
import { DueHold } from '../due-hold.js';
import { JobControl } from '../job-control.js';
import { attemptOf, type LedgerEntry } from './attempt-ledger.js';
import { Deferrals } from './deferrals.js';
import { FinishedRuns, type LastAttempt } from './finished-runs.js';
import { jobMessageOf, priorityOf, type Delivery } from './delivery.js';
import type { JobSpec } from './job-spec.js';
import { packMemberOf } from './pack-member.js';
import { Settlement } from './settlement.js';

/**
 * A message delivered at most this long before its scheduled time waits in
 * memory until then (the scheduler publishes look-ahead claims early); one due
 * later than that goes back to the stream until it is due.
 */
export const MAX_EARLY_HOLD_MS = 5_000;

/**
 * Turns a decoded job message into a Delivery and decides where it goes: its
 * attempt is numbered (JetStream's delivery count minus the deferrals in the
 * attempt ledger), a possible repeat of a finished attempt is checked against
 * the run history (after a lost delivery, or for a message older than the ack
 * wait), and then it is dead-lettered (attempts exhausted), settled without
 * running (cancelled), held in memory or handed back (not yet due), or given
 * to `onDue`.
 */
@Injectable()
export class DeliveryRouting {
  private readonly early = new DueHold<Delivery>((items) => {
    for (const d of items) this.onDue(d);
  });
  private onDue: (d: Delivery) => void = () => undefined;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
    private readonly deferrals: Deferrals,
    private readonly settlement: Settlement,
    private readonly control: JobControl,
    private readonly finished: FinishedRuns,
  ) {}

  /** Deliveries held until their scheduled time. */
  get held(): number {
    return this.early.size;
  }

  heldDeliveries(): IterableIterator<Delivery> {
    return this.early.all();
  }

  start(onDue: (d: Delivery) => void): void {
    this.onDue = onDue;
  }

  /** Routes nothing more: what arrives is handed back, and what is held until due goes back to the stream. */
  async stop(): Promise<void> {
    this.stopping = true;
    const now = Date.now();
    await Promise.all(this.early.drain().map(({ dueAt, item }) => this.deferrals.defer(item.msg, item.ledger, Math.max(0, dueAt - now), item.spec.name, 'stopping')));
  }

  /** Numbers a decoded job message's attempt and routes the Delivery it makes. */
  number(declaration: ConsumerDeclaration, msg: JsMsg, event: CloudEvent, spec: JobSpec, ledger: LedgerEntry): void {
    if (this.stopping) return void this.deferrals.defer(msg, ledger, 0, spec.name, 'stopping');
    const parts = jobMessageOf(event, msg);
    if (parts.scheduledFor && Number.isNaN(parts.scheduledFor.getTime())) parts.scheduledFor = undefined;
    const member = packMemberOf(msg);
    const { attempt, lost } = attemptOf(msg.info.deliveryCount, ledger, parts.attemptOffset ?? 0);
    // Cut short in a pack whose worker died: that attempt is recorded lost with this one (unless history has it).
    if (parts.lostInPack && parts.attemptOffset) lost.unshift(parts.attemptOffset);
    const maxAttempts = parts.maxAttempts ?? spec.maxAttempts;
    const d: Delivery = {
      msg, event, spec, parts, declaration, ledger, lost,
      key: member ? member.key : `${msg.info.stream}.${msg.info.streamSequence}`,
      priority: priorityOf(msg.subject),
      attempt,
      maxAttempts,
      backoff: parts.backoff ?? spec.backoff,
      timeoutMs: parts.timeoutMs ?? spec.timeoutMs,
    };
    // A delivery before this one never came back settled — or the message is older than the ack wait, so an
    // earlier delivery may have been lost with its count set back (nats-server 2.9): its worker may have died
    // after the outcome was committed and before the ack reached the server. Then the run is done: ack it.
    // A job of a pack was checked with its pack.
    if (member) return this.route(d);
    // A job a redelivered pack handed off may have been handed off before that pack's worker died (a second copy
    // once JetStream's duplicate window has passed): it runs only if history has not seen this attempt.
    // One that was cut short in the pack runs only if history has nothing for it at all: anything recorded means
    // a deferral's or snooze's hand-off from before the crash carries the job on.
    if (parts.rehanded && msg.info.deliveryCount === 1) {
      return this.routeUnlessRecorded(d, (known) => parts.lostInPack || known.final || known.attempt >= attempt);
    }
    if (lost.length > 0 || Date.now() - msg.info.timestampNanos / 1e6 > (declaration.ackWaitMs ?? this.config.ackWaitMs)) {
      return this.routeUnlessRecorded(d, (known) => known.final);
    }
    this.route(d);
  }

  /** A delivery that may repeat what history recorded: acked without running when `recorded` says so, else routed. */
  private routeUnlessRecorded(d: Delivery, recorded: (known: NonNullable<LastAttempt>) => boolean): void {
    void this.finished.last(d.event.id).then(
      (known) => {
        if (!known || !recorded(known)) {
          // An attempt history holds already (its record was written, its ack or ledger note was not) is not lost.
          if (known) d.lost = d.lost.filter((a) => a > known.attempt);
          return this.route(d);
        }
        this.log.info(
          { runId: d.event.id, job: d.spec.name, attempt: d.attempt, recorded: known.attempt, outcome: known.outcome },
          'delivered again after history recorded it (a lost ack, or a second hand-off from a redelivered pack): acked without running',
        );
        try {
          d.msg.ack();
        } catch {
          // the connection is closing: the next delivery asks again
        }
      },
      (e: unknown) => {
        this.log.warn({ runId: d.event.id, error: errorText(e) }, 'could not read the run history for a delivery that may repeat a recorded attempt; retrying the message later');
        nakQuietly(d.msg, 5_000);
      },
    );
  }

  /** Where a numbered delivery goes: dead (attempts exhausted), settled (cancelled), held or handed back (not due), or due. */
  private route(d: Delivery): void {
    const { msg, event, spec, parts, ledger, attempt, maxAttempts } = d;
    if (attempt > maxAttempts) {
      d.attempt = maxAttempts;
      void this.settlement.dead(d, new Error(`attempts exhausted: delivered ${msg.info.deliveryCount} times, the handler never settled it`), 'attempts_exhausted');
      return;
    }
    if (this.control.isCancelled(event.id, parts.companyId)) {
      void this.settlement.settle(d, { kind: 'cancelled', error: new CancelledError('cancelled before it started') }, new Date(), 0);
      return;
    }
    // A job never starts before its scheduled time (or, handed off from a pack, its retry's time): one delivered
    // early waits here, not in a slot.
    const dueAt = parts.notBefore && (!parts.scheduledFor || parts.notBefore > parts.scheduledFor) ? parts.notBefore.getTime() : parts.scheduledFor?.getTime() ?? 0;
    const early = dueAt ? dueAt - Date.now() : 0;
    if (early > MAX_EARLY_HOLD_MS) {
      void this.deferrals.defer(msg, ledger, early, spec.name, 'not_due');
      return;
    }
    if (early > 0) return this.early.hold(dueAt, d);
    this.onDue(d);
  }
}

export function nakQuietly(msg: JsMsg, delayMs: number): void {
  try {
    msg.nak(delayMs);
  } catch {
    // the connection is gone: the ack wait brings it back
  }
}
