import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The daily retention job (apps/scheduler/src/retention) deletes by age from
 * notifications, notification_deliveries and dead_letters in batches of the
 * oldest rows; without an index on the age column each batch scans the table.
 */
export class RetentionIndexes1796362426507 implements MigrationInterface {
  name = 'RetentionIndexes1796362426507';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS notification_deliveries_attempted ON notification_deliveries (attempted_at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS dead_letters_created ON dead_letters (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS dead_letters_created`);
    await q.query(`DROP INDEX IF EXISTS notification_deliveries_attempted`);
    await q.query(`DROP INDEX IF EXISTS notifications_created`);
  }
}
