import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-series.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const LABELS = ['job', 'queue', 'outcome'] as const;
const series = [
  { job: 'report.send', queue: 'normal', outcome: 'succeeded' },
  { job: 'report.send', queue: 'high', outcome: 'retrying' },
  { job: 'doc "quoted"\\', queue: 'normal', outcome: 'dead' },
];
const observations = [0, 0.0005, 0.001, 0.002, 0.05, 0.1, 0.7, 1, 3, 120];

describe('bound metric series expose exactly as prom-client does', () => {
  it('a histogram: same buckets, +Inf, sum and count for every series', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const bound = new BoundHistogram('t_duration_seconds', 'Duration', LABELS, BUCKETS, ours);
    const reference = new Histogram({ name: 't_duration_seconds', help: 'Duration', labelNames: LABELS, buckets: BUCKETS, registers: [theirs] });
    series.forEach((labels, n) => {
      const s = bound.bind(labels);
      for (const v of observations.slice(n)) {
        s.observe(v);
        reference.observe(labels, v);
      }
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const json = async (r: Registry) => JSON.parse(JSON.stringify(await r.getMetricsAsJSON())) as unknown;
    expect(await json(ours)).toEqual(await json(theirs));
  });

  it('a counter, bound twice to the same labels, adds to one series', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const bound = new BoundCounter('t_runs_total', 'Runs', LABELS, ours);
    const reference = new Counter({ name: 't_runs_total', help: 'Runs', labelNames: LABELS, registers: [theirs] });
    for (const labels of series) {
      bound.bind(labels).inc();
      bound.bind({ ...labels }).inc(2);
      reference.inc(labels, 3);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('reset zeroes the series and keeps them bound', async () => {
    const registry = new Registry();
    const counter = new BoundCounter('t_runs_total', 'Runs', LABELS, registry);
    const runs = counter.bind(series[0]);
    runs.inc(5);
    registry.resetMetrics();
    runs.inc();
    expect(await registry.metrics()).toContain('t_runs_total{job="report.send",queue="normal",outcome="succeeded"} 1\n');
  });

  it('refuses labels it was not declared with, and a value that is not a number', () => {
    const registry = new Registry();
    const histogram = new BoundHistogram('t_duration_seconds', 'Duration', LABELS, BUCKETS, registry);
    expect(() => histogram.bind({ job: 'a', queue: 'b' } as never)).toThrow(/takes the labels job, queue, outcome/);
    expect(() => histogram.bind(series[0]).observe(Number.NaN)).toThrow(TypeError);
  });
});
