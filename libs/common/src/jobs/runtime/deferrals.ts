import { Inject, Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { errorText } from '../../messaging/errors.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import { AttemptLedger, type LedgerEntry } from './attempt-ledger.js';
import { packMemberOf } from './pack-member.js';

export const DEFERRAL_REASONS = ['tenant_full', 'paused', 'no_handler', 'stopping', 'not_due', 'snoozed'] as const;
export type DeferralReason = (typeof DEFERRAL_REASONS)[number];

/**
 * Hands a job message back to the stream for later without using an attempt:
 * the deferral is noted in the attempt ledger first (so the next delivery's
 * attempt number leaves it out), then the message is nak'd with the delay. A
 * job of a pack is handed off alone instead (pack-member.ts).
 * Job consumers have unlimited deliveries, so however often a run is deferred
 * (an SMTP outage, quiet hours overnight, a long pause) it is never stranded.
 */
@Injectable()
export class Deferrals {
  /** Hand-backs not yet done (ledger note written, then nak): shutdown waits for them before the connection closes. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly ledger: AttemptLedger,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  /** A job this process runs: its deferrals count from 0, by reason. */
  declare(job: string): void {
    for (const reason of DEFERRAL_REASONS) this.metrics.jobDeferrals.inc({ job, reason }, 0);
  }

  defer(msg: JsMsg, entry: LedgerEntry, delayMs: number, job: string, reason: DeferralReason): Promise<void> {
    const done = this.handBack(msg, entry, delayMs, job, reason);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  /** Resolves once every hand-back begun so far is done. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async handBack(msg: JsMsg, entry: LedgerEntry, delayMs: number, job: string, reason: DeferralReason): Promise<void> {
    this.metrics.jobDeferrals.inc({ job, reason });
    // A job of a pack comes back as its own message: the pack is not nak'd for one job.
    const member = packMemberOf(msg);
    if (member) return member.handOff(delayMs, member.attempt - 1);
    try {
      await this.ledger.note(msg.info.stream, msg.info.streamSequence, { deferrals: entry.deferrals + 1, settled: msg.info.deliveryCount });
    } catch (e) {
      // Without the note the next delivery counts this one as a lost attempt: worse, but nothing is lost.
      this.log.warn({ job, reason, error: errorText(e) }, 'could not note a deferral in the attempt ledger');
    }
    try {
      msg.nak(Math.max(0, Math.round(delayMs)));
    } catch {
      // the connection is gone: the ack wait brings it back
    }
  }
}
