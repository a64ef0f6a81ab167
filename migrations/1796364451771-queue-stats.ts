import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * queue_stats_minute: once a minute the scheduler samples every consumer of
 * the JOBS stream (JetStream consumer info) so the dashboard can chart queue
 * depth and lag over time: messages not yet delivered (num_pending), delivered
 * and not yet acked (num_ack_pending), and the age of the oldest message not
 * yet acked (from its due time when it carries one). Several scheduler
 * replicas write the same minute: the last sample of a minute wins. Kept
 * 8 days (the sampler deletes older rows), enough for the 7-day chart.
 */
export class QueueStats1796364451771 implements MigrationInterface {
  name = 'QueueStats1796364451771';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE queue_stats_minute (
        minute timestamptz NOT NULL,
        stream text NOT NULL,
        consumer text NOT NULL,
        filter_subject text NOT NULL DEFAULT '',
        pending bigint NOT NULL,
        ack_pending bigint NOT NULL,
        redelivered bigint NOT NULL DEFAULT 0,
        oldest_pending_age_ms bigint,
        sampled_at timestamptz NOT NULL,
        PRIMARY KEY (minute, stream, consumer)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE queue_stats_minute');
  }
}
