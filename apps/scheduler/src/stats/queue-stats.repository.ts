import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { QueueSample, QueueStatsBucket } from './stats.types.js';

/** The only file that reads and writes queue_stats_minute. */
@Injectable()
export class QueueStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records one sampling in its minute; a later sample of the same minute (another replica, or a faster interval) replaces it. */
  async record(at: Date, samples: QueueSample[]): Promise<void> {
    if (!samples.length) return;
    await this.dataSource.query(
      `INSERT INTO queue_stats_minute (minute, stream, consumer, filter_subject, pending, ack_pending, redelivered, oldest_pending_age_ms, sampled_at)
       SELECT date_trunc('minute', $1::timestamptz), s.stream, s.consumer, s.filter_subject, s.pending, s.ack_pending, s.redelivered, s.age, $1::timestamptz
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
         AS s(stream, consumer, filter_subject, pending, ack_pending, redelivered, age)
       ON CONFLICT (minute, stream, consumer) DO UPDATE SET
         filter_subject = EXCLUDED.filter_subject, pending = EXCLUDED.pending, ack_pending = EXCLUDED.ack_pending,
         redelivered = EXCLUDED.redelivered, oldest_pending_age_ms = EXCLUDED.oldest_pending_age_ms, sampled_at = EXCLUDED.sampled_at
       WHERE queue_stats_minute.sampled_at <= EXCLUDED.sampled_at`,
      [
        at,
        samples.map((s) => s.stream),
        samples.map((s) => s.consumer),
        samples.map((s) => s.filterSubject),
        samples.map((s) => s.pending),
        samples.map((s) => s.ackPending),
        samples.map((s) => s.redelivered),
        samples.map((s) => s.oldestPendingAgeMs),
      ],
    );
  }

  /** Drops samples older than `before`; returns how many. */
  async deleteBefore(before: Date): Promise<number> {
    const rows: unknown[] = await this.dataSource.query(`DELETE FROM queue_stats_minute WHERE minute < $1 RETURNING 1`, [before]);
    return rows.length;
  }

  /** Per bucket and consumer of `stream`: the largest backlog and lag sampled in [from, to). */
  async buckets(stream: string, from: Date, to: Date, bucketSeconds: number): Promise<QueueStatsBucket[]> {
    const rows: { bucket: Date; consumer: string; filter_subject: string; pending: string; ack_pending: string; age: string | null }[] = await this.dataSource.query(
      `SELECT date_bin(make_interval(secs => $4), minute, TIMESTAMPTZ 'epoch') AS bucket, consumer, max(filter_subject) AS filter_subject,
              max(pending) AS pending, max(ack_pending) AS ack_pending, max(oldest_pending_age_ms) AS age
       FROM queue_stats_minute WHERE stream = $1 AND minute >= $2 AND minute < $3
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [stream, from, to, bucketSeconds],
    );
    return rows.map((r) => ({
      bucket: r.bucket,
      consumer: r.consumer,
      filterSubject: r.filter_subject,
      pending: Number(r.pending),
      ackPending: Number(r.ack_pending),
      oldestPendingAgeMs: r.age === null ? null : Number(r.age),
    }));
  }
}
