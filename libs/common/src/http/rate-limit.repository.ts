import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The shared token buckets (table api_rate_limits). The only file touching that table. */
@Injectable()
export class RateLimitRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes one token from `key`'s bucket in one statement: a new bucket starts full; an existing one refills
   * by the elapsed time × rate up to burst, and is charged only when a whole token is there (the row lock
   * makes concurrent takes on any replica queue up). True when a token was taken.
   */
  async take(key: string, ratePerSecond: number, burst: number): Promise<boolean> {
    const refill = `LEAST($3::float8, b.tokens + EXTRACT(EPOCH FROM (now() - b.updated_at))::float8 * $2::float8)`;
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO api_rate_limits AS b (key, tokens, updated_at) VALUES ($1, $3::float8 - 1, now())
       ON CONFLICT (key) DO UPDATE SET tokens = ${refill} - 1, updated_at = now()
       WHERE ${refill} >= 1
       RETURNING 1`,
      [key, ratePerSecond, burst],
    );
    return rows.length === 1;
  }

  /** Drops buckets idle long enough to be full again (they would start full anyway). */
  async sweep(ratePerSecond: number, burst: number): Promise<void> {
    await this.dataSource.query(`DELETE FROM api_rate_limits WHERE updated_at < now() - make_interval(secs => $1::float8)`, [burst / ratePerSecond + 1]);
  }
}
