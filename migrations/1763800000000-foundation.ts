import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1763800000000 implements MigrationInterface {
  name = 'Foundation1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letters (
        id text PRIMARY KEY,
        stream text NOT NULL,
        consumer text NOT NULL,
        subject text NOT NULL,
        message_type text,
        company_id text,
        headers jsonb NOT NULL DEFAULT '{}',
        payload text NOT NULL,
        reason text NOT NULL,
        error text NOT NULL,
        attempts int NOT NULL,
        first_failed_at timestamptz NOT NULL,
        last_failed_at timestamptz NOT NULL,
        run_id text,
        retried_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX dead_letters_company_created ON dead_letters (company_id, created_at)`);
    await q.query(`CREATE INDEX dead_letters_consumer_created ON dead_letters (consumer, created_at)`);
    await q.query(`
      CREATE TABLE tick_records (
        message_id text PRIMARY KEY,
        scheduled_for timestamptz NOT NULL,
        deliveries int NOT NULL,
        processed_by text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tick_records');
    await q.query('DROP TABLE dead_letters');
  }
}
