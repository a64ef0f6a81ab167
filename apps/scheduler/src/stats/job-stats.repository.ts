import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { JobStatsBucket, JobStatsFilter } from './stats.types.js';

/** Reads of the per-minute job stats (the job_stats view: the rollup and the attempts not rolled up yet), bucketed for charts. */
@Injectable()
export class JobStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The jobs with any rollup in [from, to), for the chart's job picker. */
  async jobs(f: Pick<JobStatsFilter, 'from' | 'to' | 'companyId'>): Promise<string[]> {
    const rows: { job: string }[] = await this.dataSource.query(
      `SELECT DISTINCT job FROM job_stats WHERE minute >= $1 AND minute < $2 AND ($3::text IS NULL OR company_id = $3) ORDER BY job LIMIT 1000`,
      [f.from, f.to, f.companyId],
    );
    return rows.map((r) => r.job);
  }

  async buckets(f: JobStatsFilter): Promise<JobStatsBucket[]> {
    const params = [f.from, f.to, f.bucketSeconds, f.job ?? null, f.companyId];
    const where = `minute >= $1 AND minute < $2 AND ($4::text IS NULL OR job = $4) AND ($5::text IS NULL OR company_id = $5)`;
    const bin = `date_bin(make_interval(secs => $3), minute, TIMESTAMPTZ 'epoch')`;
    const [counts, hist] = await Promise.all([
      this.dataSource.query(
        `SELECT ${bin} AS bucket, sum(succeeded) AS succeeded, sum(failed) AS failed, sum(retried) AS retried, sum(dead) AS dead, sum(cancelled) AS cancelled
         FROM job_stats WHERE ${where} GROUP BY 1 ORDER BY 1`,
        params,
      ) as Promise<{ bucket: Date; succeeded: string; failed: string; retried: string; dead: string; cancelled: string }[]>,
      this.dataSource.query(
        `SELECT ${bin} AS bucket, h.i AS i, sum(h.n) AS n
         FROM job_stats, unnest(duration_hist) WITH ORDINALITY AS h(n, i)
         WHERE ${where} GROUP BY 1, 2`,
        params,
      ) as Promise<{ bucket: Date; i: string; n: string }[]>,
    ]);
    const histograms = new Map<number, number[]>();
    for (const r of hist) {
      const key = r.bucket.getTime();
      const h = histograms.get(key) ?? [];
      h[Number(r.i) - 1] = Number(r.n);
      histograms.set(key, h);
    }
    return counts.map((r) => ({
      bucket: r.bucket,
      succeeded: Number(r.succeeded),
      failed: Number(r.failed),
      retried: Number(r.retried),
      dead: Number(r.dead),
      cancelled: Number(r.cancelled),
      histogram: Array.from(histograms.get(r.bucket.getTime()) ?? [], (n) => n ?? 0),
    }));
  }
}
