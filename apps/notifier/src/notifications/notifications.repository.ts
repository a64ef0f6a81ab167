import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { JobEnqueuer, type EnqueueRequest } from '../../../../libs/common/src/index.js';
import type { NewNotification, Notification, NotificationCursor } from './notifications.types.js';

interface Row {
  id: string;
  company_id: string;
  user_id: string;
  source_event_id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  critical: boolean;
  in_app: boolean;
  created_at: Date;
  read_at: Date | null;
}

export const toNotification = (r: Row): Notification => ({
  id: r.id,
  companyId: r.company_id,
  userId: r.user_id,
  sourceEventId: r.source_event_id,
  type: r.type,
  title: r.title,
  body: r.body,
  data: r.data,
  critical: r.critical,
  inApp: r.in_app,
  createdAt: r.created_at,
  readAt: r.read_at,
});

/** notifications: one row per (source event, recipient); every query scoped by company_id. */
@Injectable()
export class NotificationsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly enqueuer: JobEnqueuer,
  ) {}

  /**
   * Inserts the notifications not stored yet and, in the same transaction, plans
   * the delivery jobs for what was inserted (transactional outbox); publishes
   * after the commit. A redelivered event inserts and plans nothing.
   */
  async insertWithDeliveries(items: NewNotification[], plan: (inserted: Notification[]) => EnqueueRequest[]): Promise<Notification[]> {
    const { inserted, publish } = await this.dataSource.transaction(async (tx) => {
      const inserted = await this.insertNew(tx, items);
      const { publish } = await this.enqueuer.enqueueWithin(tx, plan(inserted));
      return { inserted, publish };
    });
    await publish();
    return inserted;
  }

  /** Inserts the notifications not stored yet; returns only those inserted now (a redelivery inserts none). */
  private async insertNew(tx: EntityManager, items: NewNotification[]): Promise<Notification[]> {
    if (items.length === 0) return [];
    const rows: Row[] = await tx.query(
      `INSERT INTO notifications (id, company_id, user_id, source_event_id, type, title, body, data, critical, in_app)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::boolean[], $10::boolean[])
       ON CONFLICT (source_event_id, user_id) DO NOTHING
       RETURNING *`,
      [
        items.map((i) => i.id),
        items.map((i) => i.companyId),
        items.map((i) => i.userId),
        items.map((i) => i.sourceEventId),
        items.map((i) => i.type),
        items.map((i) => i.title),
        items.map((i) => i.body),
        items.map((i) => JSON.stringify(i.data)),
        items.map((i) => i.critical),
        items.map((i) => i.inApp),
      ],
    );
    return rows.map(toNotification);
  }

  async find(companyId: string, id: string): Promise<Notification | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM notifications WHERE company_id = $1 AND id = $2`, [companyId, id]);
    return rows[0] ? toNotification(rows[0]) : null;
  }

  async list(companyId: string, userId: string, unreadOnly: boolean, after: NotificationCursor | null, limit: number): Promise<Notification[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM notifications WHERE company_id = $1 AND user_id = $2 AND in_app
         AND ($3::boolean IS FALSE OR read_at IS NULL)
         AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $6`,
      [companyId, userId, unreadOnly, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toNotification);
  }

  async unreadCount(companyId: string, userId: string): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM notifications WHERE company_id = $1 AND user_id = $2 AND in_app AND read_at IS NULL`,
      [companyId, userId],
    );
    return Number(rows[0].n);
  }

  /** Marks the user's notifications read (all unread when ids is null); returns how many changed. */
  async markRead(companyId: string, userId: string, ids: string[] | null, at: Date): Promise<number> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE notifications SET read_at = $4 WHERE company_id = $1 AND user_id = $2 AND in_app AND read_at IS NULL
         AND ($3::uuid[] IS NULL OR id = ANY($3::uuid[])) RETURNING id`,
      [companyId, userId, ids, at],
    );
    return affected;
  }

  /** Digest counts of a tenant's notifications created in [from, to). */
  async countsInPeriod(companyId: string, from: Date, to: Date): Promise<{ type: string; total: number; unread: number }[]> {
    const rows: { type: string; total: string; unread: string }[] = await this.dataSource.query(
      `SELECT type, count(*) AS total, count(*) FILTER (WHERE read_at IS NULL AND in_app) AS unread
       FROM notifications WHERE company_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY type ORDER BY type`,
      [companyId, from, to],
    );
    return rows.map((r) => ({ type: r.type, total: Number(r.total), unread: Number(r.unread) }));
  }
}
