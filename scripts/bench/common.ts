/**
 * What the orchestrator and every worker share: the plan, the payload, the
 * clock and the tally that counts every job exactly once.
 */
import { readFileSync } from 'node:fs';
import type { GcPauseLog, GcPauses } from './gc-pauses.js';

export const SYSTEMS = ['metronome', 'bullmq', 'pgboss'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const PHASES = ['warm', 'burn', 'steady', 'retry'] as const;
export type Phase = (typeof PHASES)[number];

export interface Plan {
  mode: 'full' | 'quick';
  /** Jobs in front of the burn-down backlog, processed first and discarded (JIT, pools, caches). */
  warmup: number;
  /** Jobs enqueued one call each (measured), then part of the burn-down backlog. */
  single: number;
  /** Callers enqueueing single jobs at once. */
  singleConcurrency: number;
  /** Jobs enqueued in bulk calls (measured), the rest of the backlog. */
  bulk: number;
  bulkBatch: number;
  /** Handlers running at once in the worker. */
  concurrency: number;
  steadyRate: number;
  steadySeconds: number;
  /** Share of the retry phase's jobs failing on their first attempt. */
  failShare: number;
  /**
   * Burn-downs per system whose worker and broker are quick enough (Metronome, BullMQ): the first in
   * the system's run, the rest after all runs, the systems' order alternating; the table gives the median.
   */
  burndownRounds: number;
}

export function planFor(mode: 'full' | 'quick'): Plan {
  return mode === 'full'
    ? { mode, warmup: 2_000, single: 10_000, singleConcurrency: 50, bulk: 40_000, bulkBatch: 1_000, concurrency: 50, steadyRate: 1_000, steadySeconds: 30, failShare: 0.01, burndownRounds: 3 }
    : { mode, warmup: 1_000, single: 1_000, singleConcurrency: 50, bulk: 4_000, bulkBatch: 1_000, concurrency: 50, steadyRate: 1_000, steadySeconds: 10, failShare: 0.01, burndownRounds: 1 };
}

export function phaseSize(plan: Plan, phase: Phase): number {
  switch (phase) {
    case 'warm':
      return plan.warmup;
    case 'burn':
      return plan.single + plan.bulk;
    case 'steady':
    case 'retry':
      return plan.steadyRate * plan.steadySeconds;
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution; every process reads the same machine clock. */
export const now = (): number => performance.timeOrigin + performance.now();

/** The value after `--<name>` on the command line, or `fallback`. */
export function cliArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The job body every system carries: about 200 bytes of JSON. */
export interface BenchPayload {
  phase: Phase;
  seq: number;
  /** Enqueue time (now()), taken just before the enqueue call. */
  t: number;
  /** Fail the first attempt (retry phase). */
  fail: boolean;
  tenant: string;
  kind: string;
  note: string;
}

const NOTE = 'no-op benchmark job; the same body for Metronome, BullMQ and pg-boss';

export function payload(phase: Phase, seq: number, fail = false): BenchPayload {
  return { phase, seq, t: now(), fail, tenant: `company-${String(seq % 1000).padStart(4, '0')}`, kind: 'bench.noop', note: NOTE };
}

export interface PhaseStats {
  expected: number;
  /** Jobs whose successful attempt ran at least once. */
  done: number;
  missing: number;
  /** Extra successful executions beyond the first, summed over jobs. */
  duplicated: number;
  failedAttempts: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface WorkerReport {
  system: SystemName;
  phases: Record<Phase, PhaseStats>;
  latency: { steady: Percentiles; retry: Percentiles; retriedOnly: Percentiles };
  burn: { firstStart: number; lastEnd: number; perSecond: number };
  cpu: { userSeconds: number; systemSeconds: number; totalSeconds: number };
  rssPeakMb: number;
  /** RSS once the worker was ready, before its first job: the process's own floor. */
  rssReadyMb: number;
  rssNowMb: number;
  heapUsedMb: number;
  notes: string[];
  /** Metronome: handler end to its run-history row committed (the ack follows the commit), steady phase. */
  historyLag?: Percentiles;
  /** The worker thread's GC pauses between the burn-down's first start and last completion. */
  burnGc: GcPauses | null;
}

export function percentiles(values: Float64Array | number[]): Percentiles {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const at = (q: number) => a[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  let sum = 0;
  for (const v of a) sum += v;
  return { n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: a[n - 1], mean: sum / n };
}

/** Peak resident set size (VmHWM) of this process, in MB. */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return NaN;
}

/**
 * Counts each job's successful attempt in a per-phase array indexed by its
 * sequence number, so missing and duplicated jobs fall out at the end, and
 * keeps enqueue-to-handler-start latencies of the steady and retry phases.
 */
export class Tally {
  private readonly counts: Record<Phase, Uint8Array>;
  private readonly failed: Record<Phase, number> = { warm: 0, burn: 0, steady: 0, retry: 0 };
  private readonly done: Record<Phase, number> = { warm: 0, burn: 0, steady: 0, retry: 0 };
  private readonly duplicated: Record<Phase, number> = { warm: 0, burn: 0, steady: 0, retry: 0 };
  private readonly latency: Record<'steady' | 'retry', Float64Array>;
  private readonly retried: number[] = [];
  private burnFirstStart = Infinity;
  private burnLastEnd = 0;
  private readonly failedOnce: Uint8Array;
  private readonly lag: number[] = [];

  constructor(readonly plan: Plan) {
    this.counts = { warm: new Uint8Array(plan.warmup), burn: new Uint8Array(phaseSize(plan, 'burn')), steady: new Uint8Array(phaseSize(plan, 'steady')), retry: new Uint8Array(phaseSize(plan, 'retry')) };
    this.latency = { steady: new Float64Array(phaseSize(plan, 'steady')).fill(NaN), retry: new Float64Array(phaseSize(plan, 'retry')).fill(NaN) };
    this.failedOnce = new Uint8Array(phaseSize(plan, 'retry'));
  }

  /**
   * The handler body, the same for every system: a job marked to fail throws
   * on its first attempt; otherwise it is counted. `attempt` is 1-based.
   */
  handle(p: BenchPayload, attempt: number): void {
    const t = now();
    if (p.fail && attempt === 1) {
      this.failed[p.phase]++;
      if (p.phase === 'retry') this.failedOnce[p.seq] = 1;
      throw new Error(`bench job ${p.phase}/${p.seq} fails its first attempt`);
    }
    const counts = this.counts[p.phase];
    if (counts[p.seq] === 0) this.done[p.phase]++;
    else this.duplicated[p.phase]++;
    if (counts[p.seq] < 255) counts[p.seq]++;
    if (p.phase === 'burn' && t < this.burnFirstStart) this.burnFirstStart = t;
    if ((p.phase === 'steady' || p.phase === 'retry') && counts[p.seq] === 1) {
      this.latency[p.phase][p.seq] = t - p.t;
      if (p.phase === 'retry' && attempt > 1) this.retried.push(t - p.t);
    }
  }

  /** Called once a job's completion is stored by its system (history written). */
  completed(p: BenchPayload): void {
    if (p.phase === 'burn') {
      const t = now();
      if (t > this.burnLastEnd) this.burnLastEnd = t;
    }
  }

  /** A steady-phase job's history row became visible `ms` after its handler ended. */
  historyLag(p: BenchPayload, ms: number): void {
    if (p.phase === 'steady') this.lag.push(ms);
  }

  /** O(1): the orchestrator polls it while the worker is under test. */
  stats(phase: Phase): PhaseStats {
    const expected = this.counts[phase].length;
    const done = this.done[phase];
    return { expected, done, missing: expected - done, duplicated: this.duplicated[phase], failedAttempts: this.failed[phase] };
  }

  report(system: SystemName, notes: string[], rssReadyMb = NaN, gc?: GcPauseLog): WorkerReport {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const phases = Object.fromEntries(PHASES.map((p) => [p, this.stats(p)])) as Record<Phase, PhaseStats>;
    const valid = (a: Float64Array) => a.filter((v) => !Number.isNaN(v));
    const burnSeconds = (this.burnLastEnd - this.burnFirstStart) / 1000;
    return {
      system,
      phases,
      latency: { steady: percentiles(valid(this.latency.steady)), retry: percentiles(valid(this.latency.retry)), retriedOnly: percentiles(this.retried) },
      burn: { firstStart: this.burnFirstStart, lastEnd: this.burnLastEnd, perSecond: burnSeconds > 0 ? phases.burn.done / burnSeconds : NaN },
      cpu: { userSeconds: cpu.user / 1e6, systemSeconds: cpu.system / 1e6, totalSeconds: (cpu.user + cpu.system) / 1e6 },
      rssPeakMb: peakRssMb(),
      rssReadyMb,
      rssNowMb: mem.rss / 1024 / 1024,
      heapUsedMb: mem.heapUsed / 1024 / 1024,
      notes,
      historyLag: this.lag.length ? percentiles(this.lag) : undefined,
      burnGc: gc?.within(this.burnFirstStart, this.burnLastEnd) ?? null,
    };
  }
}

/** Messages between the orchestrator and a worker process. */
export type ToWorker = { cmd: 'stats' } | { cmd: 'report' } | { cmd: 'stop' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'stats'; phases: Record<Phase, PhaseStats> }
  | { type: 'report'; report: WorkerReport }
  | { type: 'error'; error: string };
