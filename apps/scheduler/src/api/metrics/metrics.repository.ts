import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface JobMetricsRow {
  job: string;
  finished: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  perMinute: number;
  perHour: number;
  waiting: number;
  running: number;
}

export interface QueueDepthRow {
  queue: string;
  waiting: number;
  running: number;
}

/** Aggregates over job_runs for the metrics summary (Postgres is the truth; JetStream adds consumer lag). */
@Injectable()
export class MetricsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async perJob(scope: string | null, since: Date, job?: string): Promise<JobMetricsRow[]> {
    const rows: Record<string, string | number | null>[] = await this.dataSource.query(
      `SELECT job,
         count(*) FILTER (WHERE state IN ('succeeded','failed','dead','cancelled')) AS finished,
         count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE state IN ('failed','dead')) AS failed,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)
           FILTER (WHERE started_at IS NOT NULL AND finished_at IS NOT NULL) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)
           FILTER (WHERE started_at IS NOT NULL AND finished_at IS NOT NULL) AS p95,
         count(*) FILTER (WHERE finished_at >= now() - interval '1 minute') AS per_minute,
         count(*) FILTER (WHERE finished_at >= now() - interval '1 hour') AS per_hour,
         count(*) FILTER (WHERE state IN ('scheduled','queued','retrying')) AS waiting,
         count(*) FILTER (WHERE state = 'running') AS running
       FROM job_runs
       WHERE created_at >= $1 AND ($2::text IS NULL OR company_id = $2) AND ($3::text IS NULL OR job = $3)
       GROUP BY job ORDER BY job`,
      [since, scope, job ?? null],
    );
    return rows.map((r) => {
      const finished = Number(r.finished);
      const succeeded = Number(r.succeeded);
      const failed = Number(r.failed);
      return {
        job: String(r.job),
        finished,
        succeeded,
        failed,
        successRate: succeeded + failed > 0 ? succeeded / (succeeded + failed) : null,
        p50Ms: r.p50 === null ? null : Math.round(Number(r.p50)),
        p95Ms: r.p95 === null ? null : Math.round(Number(r.p95)),
        perMinute: Number(r.per_minute),
        perHour: Number(r.per_hour),
        waiting: Number(r.waiting),
        running: Number(r.running),
      };
    });
  }

  /** Runs waiting and running per queue (priority lane), over unfinished runs only. */
  async queueDepth(scope: string | null): Promise<QueueDepthRow[]> {
    const rows: { queue: string; waiting: string; running: string }[] = await this.dataSource.query(
      `SELECT queue, count(*) FILTER (WHERE state IN ('scheduled','queued','retrying')) AS waiting, count(*) FILTER (WHERE state = 'running') AS running
       FROM job_runs WHERE state IN ('scheduled','queued','retrying','running') AND ($1::text IS NULL OR company_id = $1)
       GROUP BY queue`,
      [scope],
    );
    return rows.map((r) => ({ queue: r.queue, waiting: Number(r.waiting), running: Number(r.running) }));
  }
}
