/**
 * The duration histogram of job_stats_minute.duration_hist: bucket i counts
 * attempts that took less than DURATION_BUCKET_BOUNDS_MS[i] (and at least the
 * bound before it); the last bucket counts everything longer. Powers of two
 * from 1 ms to about 17 minutes: percentiles read from it are within a factor
 * of two, plenty for a chart, and a minute of any volume is one small array.
 */
export const DURATION_BUCKET_BOUNDS_MS: readonly number[] = Array.from({ length: 21 }, (_, i) => 2 ** i);
export const DURATION_BUCKETS = DURATION_BUCKET_BOUNDS_MS.length + 1;

/** The bucket a duration falls in. */
export function durationBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  const i = Math.floor(Math.log2(ms)) + 1;
  return i < DURATION_BUCKETS ? i : DURATION_BUCKETS - 1;
}

/** Adds histograms element by element (missing buckets count as 0). */
export function addHistograms(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(DURATION_BUCKETS).fill(0);
  for (let i = 0; i < DURATION_BUCKETS; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}

/**
 * The q-quantile (0..1) of a histogram in ms, interpolated inside its bucket;
 * null for an empty histogram.
 */
export function histogramQuantile(hist: readonly number[], q: number): number | null {
  const total = hist.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const n = hist[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lo = i === 0 ? 0 : DURATION_BUCKET_BOUNDS_MS[i - 1];
      const hi = i < DURATION_BUCKET_BOUNDS_MS.length ? DURATION_BUCKET_BOUNDS_MS[i] : lo * 2;
      return lo + (hi - lo) * ((rank - seen) / n);
    }
    seen += n;
  }
  return DURATION_BUCKET_BOUNDS_MS[DURATION_BUCKET_BOUNDS_MS.length - 1] * 2;
}
