import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token buckets of the HTTP rate limit, shared by every replica of every service
 * (one row per service and principal or client IP). UNLOGGED: a bucket is worth
 * nothing after a crash (it would be full again within seconds), so its writes
 * skip the WAL; rows idle long enough to be full are swept by a sequential scan
 * once a minute. Only the key is indexed and pages keep room (fillfactor), so
 * the update every request makes stays a HOT update.
 */
export class ApiRateLimits1796362376548 implements MigrationInterface {
  name = 'ApiRateLimits1796362376548';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE api_rate_limits (
        key text PRIMARY KEY,
        tokens double precision NOT NULL,
        updated_at timestamptz NOT NULL
      ) WITH (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_rate_limits`);
  }
}
