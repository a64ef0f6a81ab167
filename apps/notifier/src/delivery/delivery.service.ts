import { Injectable } from '@nestjs/common';
import { Clock, PermanentError, RetryableError, SnoozeError } from '../../../../libs/common/src/index.js';
import { MembersRepository } from '../members/members.repository.js';
import { optedOut } from '../members/preferences.js';
import { NotificationsRepository } from '../notifications/notifications.repository.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { DeliveryRepository, type DeliveryOutcome } from './delivery.repository.js';
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

export const TENANT_ADMIN_ROLE = 'tenant-admin';

export { optedOut } from '../members/preferences.js';

/**
 * One delivery per job run: the job runtime brings retries, backoff and the
 * DLQ; this decides by preferences and quiet hours, sends, and records every attempt.
 */
@Injectable()
export class DeliveryService {
  constructor(
    private readonly members: MembersRepository,
    private readonly notifications: NotificationsRepository,
    private readonly webhooks: WebhooksService,
    private readonly deliveries: DeliveryRepository,
    private readonly mailer: Mailer,
    private readonly sender: WebhookSender,
    private readonly options: NotifierOptions,
    private readonly clock: Clock,
  ) {}

  async email(a: Attempt, notificationId: string): Promise<DeliveryOutcome> {
    if (await this.deliveries.alreadySent(a.companyId, a.runId)) return 'sent';
    const n = await this.notifications.find(a.companyId, notificationId);
    const record = (outcome: DeliveryOutcome, target: string | null, error?: string) =>
      this.deliveries.record({ companyId: a.companyId, notificationId, runId: a.runId, channel: 'email', target, attempt: a.attempt, outcome, error });
    if (!n) {
      await record('skipped', null, 'notification not found');
      return 'skipped';
    }
    const member = await this.members.find(a.companyId, n.userId);
    if (!member?.email) {
      await record('skipped', null, member ? 'member has no email' : 'not a member any more');
      return 'skipped';
    }
    if (optedOut(member, n.type, 'email')) {
      await record('skipped', member.email, 'opted out');
      return 'skipped';
    }
    if (!n.critical) {
      const wait = msUntilQuietEnds(this.clock.now(), member.quietHours, member.timezone);
      if (wait > 0) {
        await record('deferred', member.email, `quiet hours: ${Math.round(wait / 1000)} s left`);
        throw new SnoozeError(Math.min(wait, this.options.quietRecheckMaxMs));
      }
    }
    const mail = emailOf(n.title, n.body, member.locale);
    try {
      await this.mailer.send({ to: member.email, ...mail, messageId: `<${n.id}@metronome>` });
    } catch (e) {
      if (e instanceof SnoozeError) await record('deferred', member.email, (e as Error).message);
      else await record(a.attempt >= a.maxAttempts ? 'failed' : 'retry', member.email, (e as Error).message);
      throw e;
    }
    await record('sent', member.email);
    return 'sent';
  }

  async webhook(a: Attempt, webhookId: string, event: { id: string; type: string; time: string; data: Record<string, unknown>; recipients: string[] }): Promise<DeliveryOutcome> {
    const record = (outcome: DeliveryOutcome, target: string | null, error?: string, statusCode?: number | null) =>
      this.deliveries.record({ companyId: a.companyId, notificationId: null, runId: a.runId, channel: 'webhook', target, attempt: a.attempt, outcome, error, statusCode });
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
    const admins = (await this.members.withRoles(a.companyId, [TENANT_ADMIN_ROLE])).filter((m) => m.email && !optedOut(m, `notifier.${kind}-digest`, 'email'));
    let sent = 0;
    let failure: unknown = null;
    for (const m of admins) {
      if (await this.deliveries.alreadySent(a.companyId, a.runId, m.email)) continue;
      try {
        await this.mailer.send({ to: m.email!, ...digestEmail(kind, a.companyId, summary, m.locale) });
        await this.deliveries.record({ companyId: a.companyId, notificationId: null, runId: a.runId, channel: 'email', target: m.email, attempt: a.attempt, outcome: 'sent' });
        sent++;
      } catch (e) {
        failure = e;
        await this.deliveries.record({ companyId: a.companyId, notificationId: null, runId: a.runId, channel: 'email', target: m.email, attempt: a.attempt, outcome: 'retry', error: (e as Error).message });
      }
    }
    // Admins already mailed by this run are skipped on the retry.
    if (failure) throw failure instanceof RetryableError || failure instanceof SnoozeError ? failure : new RetryableError(String(failure));
    return sent;
  }
}
