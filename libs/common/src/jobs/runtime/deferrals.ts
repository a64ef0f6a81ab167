import { Inject, Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { errorText } from '../../messaging/errors.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import { AttemptLedger, type LedgerEntry } from './attempt-ledger.js';

export type DeferralReason = 'tenant_full' | 'paused' | 'no_handler' | 'stopping' | 'not_due' | 'snoozed';

/**
 * Hands a job message back to the stream for later without using an attempt:
 * the deferral is noted in the attempt ledger first (so the next delivery's
 * attempt number leaves it out), then the message is nak'd with the delay.
 * Job consumers have unlimited deliveries, so however often a run is deferred
 * (an SMTP outage, quiet hours overnight, a long pause) it is never stranded.
 */
@Injectable()
export class Deferrals {
  constructor(
    private readonly ledger: AttemptLedger,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async defer(msg: JsMsg, entry: LedgerEntry, delayMs: number, job: string, reason: DeferralReason): Promise<void> {
    this.metrics.jobDeferrals.inc({ job, reason });
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
