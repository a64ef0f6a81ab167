import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The notifier's job alerts (job.dead, job.sla_breached, job.timed_out, rate
 * limited per tenant and job: one alert per window, the rest folded and summed
 * up when it ends) and the Web Push channel (users' push subscriptions; push
 * deliveries in notification_deliveries).
 */
export class NotifierAlertsPush1796362696279 implements MigrationInterface {
  name = 'NotifierAlertsPush1796362696279';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notifier_alert_windows (
        company_id text NOT NULL,
        -- '<event type>:<job>', e.g. 'job.dead:documents.expiry-scan'
        alert_key text NOT NULL,
        window_ends_at timestamptz NOT NULL,
        PRIMARY KEY (company_id, alert_key)
      )`);
    await q.query(`
      CREATE TABLE notifier_alert_events (
        company_id text NOT NULL,
        event_id text NOT NULL,
        alert_key text NOT NULL,
        decision text NOT NULL CHECK (decision IN ('alert', 'folded')),
        -- an alert: how many folded events it sums up
        folded int NOT NULL DEFAULT 0,
        -- a folded event: the alert that counted it (null until then)
        summarized_by text,
        data jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (company_id, event_id)
      )`);
    await q.query(`CREATE INDEX notifier_alert_events_pending ON notifier_alert_events (company_id, alert_key) WHERE decision = 'folded' AND summarized_by IS NULL`);
    await q.query(`CREATE INDEX notifier_alert_events_age ON notifier_alert_events (occurred_at)`);
    await q.query(`
      CREATE TABLE notifier_push_subscriptions (
        id uuid PRIMARY KEY,
        company_id text NOT NULL,
        user_id text NOT NULL,
        -- the push service's URL for one browser: one owner at a time (a browser signed in as someone else moves it)
        endpoint text NOT NULL UNIQUE,
        p256dh text NOT NULL,
        auth text NOT NULL,
        expires_at timestamptz,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_success_at timestamptz
      )`);
    await q.query(`CREATE INDEX notifier_push_subscriptions_user ON notifier_push_subscriptions (company_id, user_id)`);
    await q.query(`ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check`);
    await q.query(`ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check CHECK (channel IN ('email', 'webhook', 'push'))`);
    await q.query(`CREATE INDEX notification_deliveries_run ON notification_deliveries (company_id, run_id) WHERE outcome = 'sent'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX notification_deliveries_run`);
    await q.query(`DELETE FROM notification_deliveries WHERE channel = 'push'`);
    await q.query(`ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check`);
    await q.query(`ALTER TABLE notification_deliveries ADD CONSTRAINT notification_deliveries_channel_check CHECK (channel IN ('email', 'webhook'))`);
    for (const t of ['notifier_push_subscriptions', 'notifier_alert_events', 'notifier_alert_windows']) await q.query(`DROP TABLE ${t}`);
  }
}
