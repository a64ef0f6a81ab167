import { addHistograms, DURATION_BUCKETS, durationBucket, histogramQuantile } from './duration-histogram.js';

describe('duration histogram', () => {
  it('puts durations in power-of-two buckets, the last one open-ended', () => {
    expect(durationBucket(0)).toBe(0);
    expect(durationBucket(0.5)).toBe(0);
    expect(durationBucket(1)).toBe(1);
    expect(durationBucket(3)).toBe(2);
    expect(durationBucket(1000)).toBe(10);
    expect(durationBucket(1e9)).toBe(DURATION_BUCKETS - 1);
  });

  it('reads quantiles back within their bucket', () => {
    let hist = new Array<number>(DURATION_BUCKETS).fill(0);
    for (const ms of [...Array(90).fill(10), ...Array(10).fill(900)]) {
      const one = new Array<number>(DURATION_BUCKETS).fill(0);
      one[durationBucket(ms)] = 1;
      hist = addHistograms(hist, one);
    }
    const p50 = histogramQuantile(hist, 0.5)!;
    const p95 = histogramQuantile(hist, 0.95)!;
    expect(p50).toBeGreaterThanOrEqual(8);
    expect(p50).toBeLessThan(16);
    expect(p95).toBeGreaterThanOrEqual(512);
    expect(p95).toBeLessThan(1024);
    expect(histogramQuantile(new Array(DURATION_BUCKETS).fill(0), 0.5)).toBeNull();
  });
});
