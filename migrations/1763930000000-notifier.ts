import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The notifier: member directory, in-app notifications, delivery attempts, tenant webhooks. */
export class Notifier1763930000000 implements MigrationInterface {
  name = 'Notifier1763930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notifier_members (
        company_id text NOT NULL,
        user_id text NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        email text,
        locale text,
        timezone text,
        opt_out jsonb NOT NULL DEFAULT '[]',
        quiet_start text,
        quiet_end text,
        removed boolean NOT NULL DEFAULT false,
        event_order bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (company_id, user_id)
      )`);
    await q.query(`CREATE INDEX notifier_members_roles ON notifier_members USING gin (roles)`);
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        company_id text NOT NULL,
        user_id text NOT NULL,
        source_event_id text NOT NULL,
        type text NOT NULL,
        title text NOT NULL,
        body text NOT NULL DEFAULT '',
        data jsonb NOT NULL DEFAULT '{}',
        critical boolean NOT NULL DEFAULT false,
        -- false: the member opted out of in_app for this type; the row still anchors the other channels' deliveries.
        in_app boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        CONSTRAINT notifications_source_user UNIQUE (source_event_id, user_id)
      )`);
    await q.query(`CREATE INDEX notifications_user ON notifications (company_id, user_id, created_at DESC)`);
    await q.query(`CREATE INDEX notifications_unread ON notifications (company_id, user_id) WHERE read_at IS NULL AND in_app`);
    await q.query(`CREATE INDEX notifications_period ON notifications (company_id, created_at)`);
    await q.query(`
      CREATE TABLE notifier_webhooks (
        id uuid PRIMARY KEY,
        company_id text NOT NULL UNIQUE,
        url text NOT NULL,
        secret text NOT NULL,
        types text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE notification_deliveries (
        id bigserial PRIMARY KEY,
        company_id text NOT NULL,
        notification_id uuid,
        run_id text,
        channel text NOT NULL CHECK (channel IN ('email','webhook')),
        target text,
        attempt int NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('sent','retry','failed','deferred','skipped')),
        error text,
        status_code int,
        attempted_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX notification_deliveries_notification ON notification_deliveries (company_id, notification_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['notification_deliveries', 'notifier_webhooks', 'notifications', 'notifier_members']) await q.query(`DROP TABLE ${t}`);
  }
}
