import type { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import type { AttemptOutcome } from '../history/attempt-record.js';

interface SettledSeries {
  runs: { inc(): void };
  duration: { observe(value: number): void };
}

/** Each job's run counter and duration histogram per queue and outcome, label-bound once (no labels object per job). */
export class RunSeries {
  private readonly series = new Map<string, Map<string, Map<AttemptOutcome, SettledSeries>>>();

  constructor(private readonly metrics: MetronomeMetrics) {}

  /** Counts one settled attempt and observes its duration. */
  count(job: string, queue: string, outcome: AttemptOutcome, durationMs: number): void {
    const series = this.of(job, queue, outcome);
    series.runs.inc();
    series.duration.observe(durationMs / 1000);
  }

  private of(job: string, queue: string, outcome: AttemptOutcome): SettledSeries {
    let byQueue = this.series.get(job);
    if (!byQueue) this.series.set(job, (byQueue = new Map()));
    let byOutcome = byQueue.get(queue);
    if (!byOutcome) byQueue.set(queue, (byOutcome = new Map()));
    let series = byOutcome.get(outcome);
    if (!series) {
      const labels = { job, queue, outcome };
      byOutcome.set(outcome, (series = { runs: this.metrics.jobRuns.bind(labels), duration: this.metrics.jobDuration.bind(labels) }));
    }
    return series;
  }
}
