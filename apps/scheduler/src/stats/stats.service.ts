import { Injectable } from '@nestjs/common';
import { Clock, PRIORITIES, STREAMS, subjects, subjectMatches } from '../../../../libs/common/src/index.js';
import { addHistograms, histogramQuantile } from '../../../../libs/common/src/jobs/history/duration-histogram.js';
import { JobStatsRepository } from './job-stats.repository.js';
import { QueueStatsRepository } from './queue-stats.repository.js';
import { OUTCOMES, type OutcomeCounts, type StatsRange, type TimeSeries } from './stats.types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Each range and the bucket its points are summed over: 60, 96 and 168 points. */
export const RANGES: Record<StatsRange, { ms: number; bucketSeconds: number }> = {
  '1h': { ms: HOUR, bucketSeconds: 60 },
  '24h': { ms: 24 * HOUR, bucketSeconds: 15 * 60 },
  '7d': { ms: 7 * 24 * HOUR, bucketSeconds: 60 * 60 },
};

export interface TimeSeriesQuery {
  range: StatsRange;
  job?: string;
  /** The tenant to count; null: every tenant. */
  companyId: string | null;
  /** Queue depth and lag describe consumers every tenant shares: platform callers only. */
  withQueue: boolean;
  /** Every bucket empty without reading anything (a tenant caller asking about another tenant). */
  empty?: boolean;
}

/**
 * The dashboard's charts: runs per bucket by outcome and p50/p95 duration from
 * the job_stats view (the per-minute rollup), queue depth and lag from the sampler's
 * queue_stats_minute; every bucket of the range present (empty ones count 0,
 * or null where nothing was measured).
 */
@Injectable()
export class StatsService {
  constructor(
    private readonly jobStats: JobStatsRepository,
    private readonly queueStats: QueueStatsRepository,
    private readonly clock: Clock,
  ) {}

  async timeseries(q: TimeSeriesQuery): Promise<TimeSeries> {
    const { ms, bucketSeconds } = RANGES[q.range];
    const bucketMs = bucketSeconds * 1000;
    // The last bucket is the one in progress, so a chart moves as soon as a minute is written.
    const to = Math.floor(this.clock.now().getTime() / bucketMs) * bucketMs + bucketMs;
    const from = to - ms;
    const n = ms / bucketMs;
    const index = (d: Date) => Math.floor((d.getTime() - from) / bucketMs);
    const [jobRows, queueRows, jobs] = q.empty ? [[], [], []] : await Promise.all([
      this.jobStats.buckets({ from: new Date(from), to: new Date(to), bucketSeconds, job: q.job, companyId: q.companyId }),
      q.withQueue ? this.queueStats.buckets(STREAMS.JOBS, new Date(from), new Date(to), bucketSeconds) : Promise.resolve([]),
      this.jobStats.jobs({ from: new Date(from), to: new Date(to), companyId: q.companyId }),
    ]);

    const zeros = () => new Array<number>(n).fill(0);
    const nulls = () => new Array<number | null>(n).fill(null);
    const runs = Object.fromEntries(OUTCOMES.map((o) => [o, zeros()])) as Record<keyof OutcomeCounts, number[]>;
    const durationMs = { p50: nulls(), p95: nulls() };
    const totals = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as unknown as OutcomeCounts;
    for (const r of jobRows) {
      const i = index(r.bucket);
      if (i < 0 || i >= n) continue;
      for (const o of OUTCOMES) {
        runs[o][i] += r[o];
        totals[o] += r[o];
      }
      const hist = addHistograms(r.histogram, []);
      durationMs.p50[i] = round(histogramQuantile(hist, 0.5));
      durationMs.p95[i] = round(histogramQuantile(hist, 0.95));
    }

    let queue: TimeSeries['queue'] = null;
    if (q.withQueue) {
      const jobSubjects = q.job ? PRIORITIES.map((p) => subjects.job(p, q.job!)) : null;
      const carries = (filter: string) => jobSubjects === null || jobSubjects.some((s) => subjectMatches(filter || '>', s));
      queue = { pending: nulls(), ackPending: nulls(), lagMs: nulls(), consumers: [] };
      const consumers = new Set<string>();
      for (const r of queueRows) {
        const i = index(r.bucket);
        if (i < 0 || i >= n || !carries(r.filterSubject)) continue;
        consumers.add(r.consumer);
        queue.pending[i] = (queue.pending[i] ?? 0) + r.pending;
        queue.ackPending[i] = (queue.ackPending[i] ?? 0) + r.ackPending;
        if (r.oldestPendingAgeMs !== null) queue.lagMs[i] = Math.max(queue.lagMs[i] ?? 0, r.oldestPendingAgeMs);
      }
      queue.consumers = [...consumers].sort();
    }

    return {
      range: q.range,
      bucketSeconds,
      from: new Date(from),
      to: new Date(to),
      job: q.job ?? null,
      companyId: q.companyId,
      t: Array.from({ length: n }, (_, i) => (from + i * bucketMs) / 1000),
      runs,
      durationMs,
      queue,
      totals,
      jobs,
    };
  }
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}
