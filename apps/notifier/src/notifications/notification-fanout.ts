import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { errorText, NatsConnectionService, ROOT_LOGGER, subjects, type Logger } from '../../../../libs/common/src/index.js';
import { NotificationStream } from './notification-stream.js';
import type { Notification } from './notifications.types.js';

type Wire = Omit<Notification, 'createdAt' | 'readAt'> & { createdAt: string; readAt: string | null };

/** A subject token for a user id (user ids may hold dots, spaces or wildcards). */
export function inboxUserKey(userId: string): string {
  return createHash('sha256').update(userId).digest('hex').slice(0, 32);
}

/**
 * Fans stored in-app notifications out to the SSE streams of every notifier
 * replica over NATS core (notifier.inbox.<companyId>.<user key>), so a user's
 * stream open on replica B sees what replica A stored. Every replica
 * subscribes to all inboxes and hands each notification to its own
 * NotificationStream, which has the open streams. At most once: a stream that
 * misses one (NATS away) still finds it in the list API, the record.
 */
@Injectable()
export class NotificationFanout implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(
    private readonly nats: NatsConnectionService,
    private readonly stream: NotificationStream,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.connection$();
    this.subscription = nc.subscribe(subjects.notifierInboxAll(), {
      callback: (error, msg) => {
        if (error) return this.log.warn({ error: errorText(error) }, 'notification fan-out subscription error');
        try {
          const w = msg.json<Wire>();
          this.stream.publish([{ ...w, createdAt: new Date(w.createdAt), readAt: w.readAt ? new Date(w.readAt) : null }]);
        } catch (e) {
          this.log.warn({ subject: msg.subject, error: errorText(e) }, 'unreadable notification on the fan-out subject');
        }
      },
    });
    // The server has the interest before this replica reports ready.
    await nc.flush();
  }

  /** Tells every replica (this one included) about notifications just committed. Never throws. */
  async publish(items: Notification[]): Promise<void> {
    if (items.length === 0) return;
    try {
      const nc = await this.nats.connection$();
      for (const n of items) nc.publish(subjects.notifierInbox(n.companyId, inboxUserKey(n.userId)), JSON.stringify(n));
    } catch (e) {
      this.log.warn({ error: errorText(e), notifications: items.length }, 'could not fan out notifications to the live streams');
    }
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
