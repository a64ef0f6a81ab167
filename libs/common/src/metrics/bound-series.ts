import type { Registry } from 'prom-client';

type Labels<T extends string> = Record<T, string>;

export interface CounterSeries {
  inc(by?: number): void;
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
  exemplar?: null;
}

interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: MetricValue[];
}

/**
 * Series bound to their labels once, for the job runtime's per-job metrics.
 * prom-client's `labels()` child validates and hashes its labels again on
 * every inc and observe (in the bench's burn-down about 3 % of the worker's
 * CPU and 1 KB of garbage a job); a bound series here adds to plain numbers.
 * Both kinds register in the same prom-client Registry and expose exactly as
 * prom-client's own Counter and Histogram do (bound-series.spec.ts compares
 * the text). `reset()` zeroes the series and keeps them bound.
 */
abstract class BoundMetric<T extends string, S, H> {
  protected readonly series = new Map<string, { labels: Labels<T>; state: S; handle: H }>();
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly T[],
    registry: Registry,
  ) {
    // The registry reads name, help, type, get() and reset(); it takes any object that has them.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series' handle for these labels, made on first use; throws on a missing or unknown label (a programming error). */
  bind(labels: Labels<T>): H {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || this.labelNames.some((n) => typeof labels[n] !== 'string')) {
      throw new Error(`${this.name} takes the labels ${this.labelNames.join(', ')}; got ${given.join(', ')}`);
    }
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      const state = this.initial();
      this.series.set(key, (s = { labels: { ...labels }, state, handle: this.handle(state) }));
    }
    return s.handle;
  }

  protected abstract initial(): S;
  protected abstract handle(state: S): H;
}

export class BoundCounter<T extends string> extends BoundMetric<T, { value: number }, CounterSeries> {
  readonly type = 'counter' as const;

  protected initial(): { value: number } {
    return { value: 0 };
  }

  protected handle(state: { value: number }): CounterSeries {
    return {
      inc: (by = 1) => {
        state.value += by;
      },
    };
  }

  async get(): Promise<MetricData> {
    const values = [...this.series.values()].map(({ labels, state }) => ({ value: state.value, labels }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const { state } of this.series.values()) state.value = 0;
  }
}

interface HistogramState {
  /** Observations per bucket, not cumulative; the last counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

export class BoundHistogram<T extends string> extends BoundMetric<T, HistogramState, HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(name: string, help: string, labelNames: readonly T[], private readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  protected initial(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected handle(state: HistogramState): HistogramSeries {
    const bounds = this.buckets;
    return {
      observe: (value) => {
        if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite number: ${value}`);
        let i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        state.counts[i]++;
        state.sum += value;
        state.count++;
      },
    };
  }

  /** As prom-client's Histogram gives it to the registry's text format: bucket label `le`, the series' labels shared. */
  async getForPromString(): Promise<MetricData> {
    const values: MetricValue[] = [];
    for (const { labels, state } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += state.counts[i];
        values.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: state.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: {}, sharedLabels: labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** As prom-client's Histogram gives it to JSON readers: every label in `labels`. */
  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  reset(): void {
    for (const { state } of this.series.values()) {
      state.counts.fill(0);
      state.sum = 0;
      state.count = 0;
    }
  }
}
