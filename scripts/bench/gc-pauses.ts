import { constants, PerformanceObserver } from 'node:perf_hooks';

/** The main thread's GC pauses over one window (the burn-down): young (scavenges) and full (mark-compact and its steps). */
export interface GcPauses {
  young: number;
  young_ms: number;
  full: number;
  full_ms: number;
  /** Both kinds' pause time as a share of the window, in %: time the job path could not run. */
  share_pct: number;
}

/**
 * Logs this process's GC pauses (`gc` performance entries) so the bench can say
 * how much of a phase the worker's thread spent collecting. The young
 * generation's size (`--max-semi-space-size`) trades this share against RSS,
 * and every system's worker runs with the same setting.
 */
export class GcPauseLog {
  private readonly starts: number[] = [];
  private readonly durations: number[] = [];
  private readonly young: boolean[] = [];
  /** Observes for the life of the worker process (it exits once the orchestrator has its report). */
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Entry times count from timeOrigin; the bench's clock (`now`) is epoch milliseconds.
      this.starts.push(performance.timeOrigin + e.startTime);
      this.durations.push(e.duration);
      this.young.push((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR);
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** The pauses that began inside [from, to] (epoch ms); null for an empty window. */
  within(from: number, to: number): GcPauses | null {
    if (!(to > from)) return null;
    const p = { young: 0, young_ms: 0, full: 0, full_ms: 0 };
    for (let i = 0; i < this.starts.length; i++) {
      if (this.starts[i] < from || this.starts[i] > to) continue;
      if (this.young[i]) {
        p.young++;
        p.young_ms += this.durations[i];
      } else {
        p.full++;
        p.full_ms += this.durations[i];
      }
    }
    const round = (v: number) => Math.round(v * 10) / 10;
    return { young: p.young, young_ms: round(p.young_ms), full: p.full, full_ms: round(p.full_ms), share_pct: round((100 * (p.young_ms + p.full_ms)) / (to - from)) };
  }
}
