import type { SystemResult } from './report.js';

/** One burn-down of a system's backlog: its rate, and the CPU of all its processes per job. */
export interface BurnDownRound {
  per_s: number | null;
  cpu_us_per_job_total: number | null;
  /** Share of the host's CPU busy meanwhile, in %. */
  host_busy_pct: number | null;
  missing: number;
  duplicated: number;
  load_average_1m: { before: number | null; after: number | null };
}

/** The middle value (the mean of the two middle ones for an even count); null when there is none. */
function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!known.length) return null;
  const mid = known.length >> 1;
  return known.length % 2 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

/**
 * The system's result with its further burn-down rounds: every round listed
 * (the system's own run first), the burn-down rate and its CPU per job the
 * median of all rounds, and the rounds' missing and duplicated jobs counted.
 */
export function withBurnDownRounds(r: SystemResult, more: readonly BurnDownRound[]): SystemResult {
  const first: BurnDownRound = {
    per_s: r.burndown_per_s,
    cpu_us_per_job_total: r.burndown_cpu_us_per_job_total,
    host_busy_pct: r.burndown_cpu?.host_busy_pct ?? null,
    missing: r.phases.warm.missing + r.phases.burn.missing,
    duplicated: r.phases.warm.duplicated + r.phases.burn.duplicated,
    load_average_1m: r.load_average_1m,
  };
  const rounds = [first, ...more];
  const rate = median(rounds.map((x) => x.per_s));
  const cpu = median(rounds.map((x) => x.cpu_us_per_job_total));
  return {
    ...r,
    burndown_rounds: rounds,
    burndown_per_s: rate === null ? null : Math.round(rate),
    burndown_cpu_us_per_job_total: cpu === null ? null : Math.round(cpu * 10) / 10,
    missing: r.missing + more.reduce((n, x) => n + x.missing, 0),
    duplicated: r.duplicated + more.reduce((n, x) => n + x.duplicated, 0),
  };
}
