/** One consumer's backlog at one sampling. */
export interface QueueSample {
  stream: string;
  consumer: string;
  filterSubject: string;
  /** Jobs matching the consumer not yet delivered (an estimate when job packs are present: pending-jobs.ts). */
  pending: number;
  /** Jobs delivered, not yet acked (the same). */
  ackPending: number;
  redelivered: number;
  /** How long the oldest message not yet acked has been due (ms); 0 when none waits, null when unknown. */
  oldestPendingAgeMs: number | null;
}

export const STATS_RANGES = ['1h', '24h', '7d'] as const;
export type StatsRange = (typeof STATS_RANGES)[number];

/** Outcome counts of the job_stats view, summed over a bucket. */
export interface OutcomeCounts {
  succeeded: number;
  failed: number;
  retried: number;
  dead: number;
  cancelled: number;
}

export const OUTCOMES: readonly (keyof OutcomeCounts)[] = ['succeeded', 'failed', 'retried', 'dead', 'cancelled'];

/** One bucket of the job_stats view: counts and the summed duration histogram. */
export interface JobStatsBucket extends OutcomeCounts {
  bucket: Date;
  histogram: number[];
}

/** One consumer in one bucket of queue_stats_minute: the largest backlog sampled in it. */
export interface QueueStatsBucket {
  bucket: Date;
  consumer: string;
  filterSubject: string;
  pending: number;
  ackPending: number;
  oldestPendingAgeMs: number | null;
}

export interface JobStatsFilter {
  from: Date;
  to: Date;
  bucketSeconds: number;
  job?: string;
  /** Only this tenant; null: every tenant (and runs of no tenant). */
  companyId: string | null;
}

/** The charts' series, column-wise (uPlot's layout): t[i] is the start of bucket i in unix seconds. */
export interface TimeSeries {
  range: StatsRange;
  bucketSeconds: number;
  from: Date;
  to: Date;
  job: string | null;
  companyId: string | null;
  t: number[];
  runs: Record<keyof OutcomeCounts, number[]>;
  durationMs: { p50: (number | null)[]; p95: (number | null)[] };
  /** Platform callers only (consumers are shared by every tenant); null for tenant callers. */
  queue: { pending: (number | null)[]; ackPending: (number | null)[]; lagMs: (number | null)[]; consumers: string[] } | null;
  totals: OutcomeCounts;
  /** Every job with runs in the range (and the caller's tenant), for picking one. */
  jobs: string[];
}
