import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { NewPushSubscription, PushSubscription } from './push.types.js';

interface Row {
  id: string;
  company_id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  expires_at: Date | null;
  user_agent: string | null;
  created_at: Date;
  last_success_at: Date | null;
}

const toSubscription = (r: Row): PushSubscription => ({
  id: r.id,
  companyId: r.company_id,
  userId: r.user_id,
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  expiresAt: r.expires_at,
  userAgent: r.user_agent,
  createdAt: r.created_at,
  lastSuccessAt: r.last_success_at,
});

/** notifier_push_subscriptions: every query scoped by company_id (and the user for what a user does). */
@Injectable()
export class PushRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Registers the endpoint for the user. An endpoint has one owner: registered
   * again by someone else (the browser now signed in as another user, of any
   * tenant) it moves to them, with the new keys, so nobody's notifications keep
   * going to a browser they left.
   */
  async upsert(companyId: string, userId: string, s: NewPushSubscription): Promise<PushSubscription> {
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO notifier_push_subscriptions (id, company_id, user_id, endpoint, p256dh, auth, expires_at, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (endpoint) DO UPDATE SET
         id = CASE WHEN notifier_push_subscriptions.company_id = EXCLUDED.company_id AND notifier_push_subscriptions.user_id = EXCLUDED.user_id
                   THEN notifier_push_subscriptions.id ELSE EXCLUDED.id END,
         company_id = EXCLUDED.company_id, user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
         expires_at = EXCLUDED.expires_at, user_agent = EXCLUDED.user_agent
       RETURNING *`,
      [randomUUID(), companyId, userId, s.endpoint, s.p256dh, s.auth, s.expiresAt, s.userAgent],
    );
    return toSubscription(rows[0]);
  }

  async ofUser(companyId: string, userId: string): Promise<PushSubscription[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM notifier_push_subscriptions WHERE company_id = $1 AND user_id = $2 ORDER BY created_at, id`,
      [companyId, userId],
    );
    return rows.map(toSubscription);
  }

  /** The users among `userIds` with at least one subscription. */
  async usersWithSubscriptions(companyId: string, userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows: { user_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT user_id FROM notifier_push_subscriptions WHERE company_id = $1 AND user_id = ANY($2::text[])`,
      [companyId, userIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  /** The user's own subscription removed; false when they have none by that id. */
  async deleteOwn(companyId: string, userId: string, id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM notifier_push_subscriptions WHERE company_id = $1 AND user_id = $2 AND id = $3 RETURNING id`,
      [companyId, userId, id],
    );
    return affected > 0;
  }

  /** Drops a subscription the push service says is gone (404/410): only while it still has the endpoint that was refused. */
  async dropExpired(companyId: string, id: string, endpoint: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM notifier_push_subscriptions WHERE company_id = $1 AND id = $2 AND endpoint = $3`, [companyId, id, endpoint]);
  }

  async markSuccess(companyId: string, id: string, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE notifier_push_subscriptions SET last_success_at = $3 WHERE company_id = $1 AND id = $2`, [companyId, id, at]);
  }
}
