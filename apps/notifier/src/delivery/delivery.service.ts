import { Injectable } from '@nestjs/common';
import { Clock, MetronomeMetrics, PermanentError, RetryableError, SnoozeError } from '../../../../libs/common/src/index.js';
import { optedOut } from '../members/preferences.js';
import { Recipients, TENANT_ADMIN_ROLE } from '../members/recipients.js';
import type { Member } from '../members/members.types.js';
import { NotificationsRepository } from '../notifications/notifications.repository.js';
import type { Notification } from '../notifications/notifications.types.js';
import { pushPayload } from '../push/push-payload.js';
import { PushRepository } from '../push/push.repository.js';
import { PushGoneError, PushSender } from '../push/push.sender.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { DELIVERY_OUTCOMES, DeliveryRepository, type DeliveryAttempt, type DeliveryOutcome } from './delivery.repository.js';
import { Mailer } from './mailer.js';
import { NotifierOptions } from './notifier-options.js';
import { msUntilQuietEnds } from './quiet-hours.js';
import { digestEmail, emailOf } from './templates.js';
import { WebhookError, WebhookSender } from './webhook.sender.js';

export interface Attempt {
  companyId: string;
  runId: string;
  attempt: number;
  maxAttempts: number;
}

export { TENANT_ADMIN_ROLE } from '../members/recipients.js';
export { optedOut } from '../members/preferences.js';

type PersonalChannel = 'email' | 'push';

/**
 * One delivery per job run: the job runtime brings retries, backoff and the
 * DLQ; this decides by preferences and quiet hours, sends, and records every
 * attempt (notification_deliveries and metronome_notification_deliveries_total).
 */
@Injectable()
export class DeliveryService {
  constructor(
    private readonly recipients: Recipients,
    private readonly notifications: NotificationsRepository,
    private readonly webhooks: WebhooksService,
    private readonly deliveries: DeliveryRepository,
    private readonly mailer: Mailer,
    private readonly sender: WebhookSender,
    private readonly push: PushRepository,
    private readonly pusher: PushSender,
    private readonly options: NotifierOptions,
    private readonly clock: Clock,
    private readonly metrics: MetronomeMetrics,
  ) {
    // Every channel and outcome counts from 0, so rates and alerts on failures exist before the first one.
    for (const channel of ['email', 'push', 'webhook'] as const) for (const outcome of DELIVERY_OUTCOMES) metrics.notificationDeliveries.inc({ channel, outcome }, 0);
    for (const outcome of ['sent', 'skipped'] as const) metrics.notificationDeliveries.inc({ channel: 'in_app', outcome }, 0);
  }

  private async record(a: DeliveryAttempt): Promise<void> {
    await this.deliveries.record(a);
    this.metrics.notificationDeliveries.inc({ channel: a.channel, outcome: a.outcome });
  }

  /**
   * The notification and its recipient when it is to be sent on this channel
   * now; a recorded `skipped` (gone, opted out) or a snooze (quiet hours) otherwise.
   */
  private async personal(a: Attempt, notificationId: string, channel: PersonalChannel): Promise<{ n: Notification; member: Member } | null> {
    const record = (outcome: DeliveryOutcome, target: string | null, error?: string) =>
      this.record({ companyId: a.companyId, notificationId, runId: a.runId, channel, target, attempt: a.attempt, outcome, error });
    const n = await this.notifications.find(a.companyId, notificationId);
    if (!n) {
      await record('skipped', null, 'notification not found');
      return null;
    }
    const member = await this.recipients.find(a.companyId, n.userId);
    if (!member || (channel === 'email' && !member.email)) {
      await record('skipped', null, member ? 'member has no email' : 'not a member any more');
      return null;
    }
    if (optedOut(member, n.type, channel)) {
      await record('skipped', channel === 'email' ? member.email : null, 'opted out');
      return null;
    }
    if (!n.critical) {
      const wait = msUntilQuietEnds(this.clock.now(), member.quietHours, member.timezone);
      if (wait > 0) {
        await record('deferred', channel === 'email' ? member.email : null, `quiet hours: ${Math.round(wait / 1000)} s left`);
        throw new SnoozeError(Math.min(wait, this.options.quietRecheckMaxMs));
      }
    }
    return { n, member };
  }

  async email(a: Attempt, notificationId: string): Promise<DeliveryOutcome> {
    if (await this.deliveries.alreadySent(a.companyId, a.runId)) return 'sent';
    const found = await this.personal(a, notificationId, 'email');
    if (!found) return 'skipped';
    const { n, member } = found;
    const record = (outcome: DeliveryOutcome, error?: string) =>
      this.record({ companyId: a.companyId, notificationId, runId: a.runId, channel: 'email', target: member.email, attempt: a.attempt, outcome, error });
    const mail = emailOf(n.title, n.body, member.locale);
    try {
      await this.mailer.send({ to: member.email!, ...mail, messageId: `<${n.id}@metronome>` });
    } catch (e) {
      if (e instanceof SnoozeError) await record('deferred', (e as Error).message);
      else await record(a.attempt >= a.maxAttempts ? 'failed' : 'retry', (e as Error).message);
      throw e;
    }
    await record('sent');
    return 'sent';
  }

  /**
   * The notification to every browser its recipient subscribed. A browser
   * already reached by this run is skipped on a retry; a gone subscription
   * (404/410) is dropped; a refused one fails alone; a retryable failure
   * retries the run after the others were tried.
   */
  async pushNotification(a: Attempt, notificationId: string): Promise<DeliveryOutcome> {
    const found = await this.personal(a, notificationId, 'push');
    if (!found) return 'skipped';
    const { n } = found;
    const subscriptions = await this.push.ofUser(a.companyId, n.userId);
    const record = (outcome: DeliveryOutcome, target: string | null, error?: string, statusCode?: number | null) =>
      this.record({ companyId: a.companyId, notificationId, runId: a.runId, channel: 'push', target, attempt: a.attempt, outcome, error, statusCode });
    if (subscriptions.length === 0) {
      await record('skipped', null, 'no push subscription');
      return 'skipped';
    }
    const message = { payload: pushPayload(n), urgency: n.critical ? ('high' as const) : ('normal' as const) };
    let sent = 0;
    let retry: unknown = null;
    for (const s of subscriptions) {
      if (await this.deliveries.alreadySent(a.companyId, a.runId, s.id)) {
        sent++;
        continue;
      }
      try {
        const status = await this.pusher.send(s, message);
        await record('sent', s.id, undefined, status);
        await this.push.markSuccess(a.companyId, s.id, this.clock.now());
        sent++;
      } catch (e) {
        if (e instanceof PushGoneError) {
          await this.push.dropExpired(a.companyId, s.id, s.endpoint);
          await record('failed', s.id, `${e.message}: subscription removed`, e.statusCode);
        } else if (e instanceof PermanentError) {
          await record('failed', s.id, e.message);
        } else if (e instanceof SnoozeError) {
          await record('deferred', s.id, e.message);
          retry ??= e;
        } else {
          await record(a.attempt >= a.maxAttempts ? 'failed' : 'retry', s.id, (e as Error).message);
          retry = e;
        }
      }
    }
    if (retry) throw retry instanceof RetryableError || retry instanceof SnoozeError ? retry : new RetryableError(String(retry));
    return sent > 0 ? 'sent' : 'skipped';
  }

  async webhook(a: Attempt, webhookId: string, event: { id: string; type: string; time: string; data: Record<string, unknown>; recipients: string[] }): Promise<DeliveryOutcome> {
    const record = (outcome: DeliveryOutcome, target: string | null, error?: string, statusCode?: number | null) =>
      this.record({ companyId: a.companyId, notificationId: null, runId: a.runId, channel: 'webhook', target, attempt: a.attempt, outcome, error, statusCode });
    if (await this.deliveries.alreadySent(a.companyId, a.runId)) return 'sent';
    const w = await this.webhooks.find(a.companyId, webhookId);
    if (!w || !w.enabled) {
      await record('skipped', w?.url ?? null, w ? 'webhook disabled' : 'webhook removed');
      return 'skipped';
    }
    const payload = { id: event.id, type: event.type, companyId: a.companyId, time: event.time, data: event.data, recipients: event.recipients };
    try {
      const status = await this.sender.send(w.url, w.secret, payload, a.runId, this.clock.now());
      await record('sent', w.url, undefined, status);
      return 'sent';
    } catch (e) {
      if (!(e instanceof WebhookError)) throw e;
      if (e.failure instanceof SnoozeError) {
        await record('deferred', w.url, e.message);
        throw e.failure;
      }
      const final = e.failure instanceof PermanentError || a.attempt >= a.maxAttempts;
      await record(final ? 'failed' : 'retry', w.url, e.message, e.statusCode);
      throw e.failure;
    }
  }

  /** Emails the tenant admins the counts of the tenant's notifications in [from, to). */
  async digest(a: Attempt, kind: 'weekly' | 'monthly', from: Date, to: Date): Promise<number> {
    const counts = await this.notifications.countsInPeriod(a.companyId, from, to);
    const summary = {
      from,
      to,
      total: counts.reduce((s, c) => s + c.total, 0),
      unread: counts.reduce((s, c) => s + c.unread, 0),
      byType: counts.map((c) => ({ type: c.type, count: c.total })),
    };
    const admins = (await this.recipients.withRoles(a.companyId, [TENANT_ADMIN_ROLE])).filter((m) => m.email && !optedOut(m, `notifier.${kind}-digest`, 'email'));
    let sent = 0;
    let failure: unknown = null;
    for (const m of admins) {
      if (await this.deliveries.alreadySent(a.companyId, a.runId, m.email)) continue;
      try {
        await this.mailer.send({ to: m.email!, ...digestEmail(kind, a.companyId, summary, m.locale) });
        await this.record({ companyId: a.companyId, notificationId: null, runId: a.runId, channel: 'email', target: m.email, attempt: a.attempt, outcome: 'sent' });
        sent++;
      } catch (e) {
        failure = e;
        await this.record({ companyId: a.companyId, notificationId: null, runId: a.runId, channel: 'email', target: m.email, attempt: a.attempt, outcome: 'retry', error: (e as Error).message });
      }
    }
    // Admins already mailed by this run are skipped on the retry.
    if (failure) throw failure instanceof RetryableError || failure instanceof SnoozeError ? failure : new RetryableError(String(failure));
    return sent;
  }
}
