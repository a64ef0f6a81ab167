import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { JOB_NAMES, MetronomeMetrics, type EnqueueRequest } from '../../../../libs/common/src/index.js';
import { render } from '../delivery/templates.js';
import { optedOut } from '../members/preferences.js';
import { Recipients } from '../members/recipients.js';
import type { Member } from '../members/members.types.js';
import { PushRepository } from '../push/push.repository.js';
import { PushSender } from '../push/push.sender.js';
import { WebhooksRepository } from '../webhooks/webhooks.repository.js';
import { NotificationFanout } from './notification-fanout.js';
import { NotificationsRepository } from './notifications.repository.js';
import type { Notification, NotificationCursor } from './notifications.types.js';

export { SYSTEM_ADMIN_ROLE, TENANT_ADMIN_ROLE } from '../members/recipients.js';

/** Who an incoming event is for: roles and/or explicit users, always inside its scope (a tenant, or the platform). */
export interface Audience {
  roles?: string[];
  userIds?: string[];
}

export interface IncomingEvent {
  id: string;
  type: string;
  companyId: string;
  time: Date;
  data: Record<string, unknown>;
  audience: Audience;
  /** Critical notifications are delivered during quiet hours. */
  critical: boolean;
}

/**
 * Turns events into one in-app notification per recipient (idempotent on the
 * event id) and plans their email, push and webhook deliveries in the same
 * transaction; the live streams of every replica hear of them after the commit.
 */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly recipientsOf: Recipients,
    private readonly notifications: NotificationsRepository,
    private readonly webhooks: WebhooksRepository,
    private readonly push: PushRepository,
    private readonly pusher: PushSender,
    private readonly fanout: NotificationFanout,
    private readonly metrics: MetronomeMetrics,
  ) {}

  async recipients(companyId: string, audience: Audience): Promise<Member[]> {
    const [byRole, byId] = await Promise.all([
      this.recipientsOf.withRoles(companyId, audience.roles ?? []),
      this.recipientsOf.byIds(companyId, audience.userIds ?? []),
    ]);
    const all = new Map<string, Member>();
    for (const m of [...byRole, ...byId]) all.set(m.userId, m);
    return [...all.values()];
  }

  /** Returns the notifications created now (none when the event was already handled). */
  async notify(e: IncomingEvent): Promise<Notification[]> {
    const recipients = await this.recipients(e.companyId, e.audience);
    const items = recipients.map((m) => ({
      id: randomUUID(),
      companyId: e.companyId,
      userId: m.userId,
      sourceEventId: e.id,
      type: e.type,
      ...render(e.type, m.locale, e.data),
      data: e.data,
      critical: e.critical,
      inApp: !optedOut(m, e.type, 'in_app'),
    }));
    const withEmail = new Set(recipients.filter((m) => m.email).map((m) => m.userId));
    // Preferences and quiet hours are applied when each is sent; here only who can receive push at all.
    const withPush = this.pusher.enabled ? await this.push.usersWithSubscriptions(e.companyId, recipients.map((m) => m.userId)) : new Set<string>();
    const webhook = await this.webhooks.ofTenant(e.companyId);
    const webhookWanted = webhook && webhook.enabled && (webhook.types.length === 0 || webhook.types.includes(e.type));
    const priority = e.critical ? ('high' as const) : ('normal' as const);
    const created = await this.notifications.insertWithDeliveries(items, (inserted) => {
      const personal = (channel: 'email' | 'push', to: Set<string>): EnqueueRequest[] =>
        inserted
          .filter((n) => to.has(n.userId))
          .map((n) => ({
            job: JOB_NAMES.notifierDeliver,
            payload: { channel, notificationId: n.id },
            options: { companyId: e.companyId, idempotencyKey: `${e.id}:${n.userId}:${channel}`, priority },
          }));
      const jobs = [...personal('email', withEmail), ...personal('push', withPush)];
      if (webhookWanted) {
        jobs.push({
          job: JOB_NAMES.notifierDeliver,
          payload: {
            channel: 'webhook',
            webhookId: webhook.id,
            event: { id: e.id, type: e.type, time: e.time.toISOString(), data: e.data, recipients: recipients.map((m) => m.userId) },
          },
          // Keyed on the event: a redelivery (or a second replica) plans it once.
          options: { companyId: e.companyId, idempotencyKey: `${e.id}:${webhook.id}:webhook`, priority },
        });
      }
      return jobs;
    });
    for (const n of created) this.metrics.notificationDeliveries.inc({ channel: 'in_app', outcome: n.inApp ? 'sent' : 'skipped' });
    await this.fanout.publish(created.filter((n) => n.inApp));
    return created;
  }

  list(companyId: string, userId: string, unreadOnly: boolean, after: NotificationCursor | null, limit: number) {
    return this.notifications.list(companyId, userId, unreadOnly, after, limit);
  }

  unreadCount(companyId: string, userId: string) {
    return this.notifications.unreadCount(companyId, userId);
  }

  markRead(companyId: string, userId: string, ids: string[] | null, at: Date) {
    return this.notifications.markRead(companyId, userId, ids, at);
  }
}
