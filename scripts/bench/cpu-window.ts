import { readFileSync } from 'node:fs';
import { processCpuSeconds, type DatabaseCpu } from './infra.js';

/** CPU per job of each process a system needs over one phase, and how busy the whole host was meanwhile. */
export interface CpuBreakdown {
  /** Microseconds of CPU per job: the worker (all its threads, GC included), the broker, the database, and their sum. */
  us_per_job: { worker: number; broker: number; database: number; total: number };
  /** Share of the host's CPU time (all cores, every process) that was not idle during the phase, in %. */
  host_busy_pct: number | null;
}

/** Busy and total jiffies of the whole host since boot, from /proc/stat. */
function hostJiffies(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th figures.
    return { busy: total - cpu[3] - cpu[4], total };
  } catch {
    return null;
  }
}

interface Reading {
  worker: number;
  broker: number;
  database: number;
  host: { busy: number; total: number } | null;
}

/**
 * Reads the CPU of a system's processes at the start and end of a phase (the
 * burn-down), so the bench can say where each job's CPU went while the
 * host was saturated, not only over the whole run.
 */
export class CpuWindow {
  private from?: Reading;

  constructor(
    private readonly workerPid: number | undefined,
    private readonly brokerPids: readonly number[],
    private readonly database?: DatabaseCpu,
  ) {}

  private async read(): Promise<Reading> {
    return {
      worker: processCpuSeconds(this.workerPid) ?? 0,
      broker: this.brokerPids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0),
      database: this.database ? await this.database.reading() : 0,
      host: hostJiffies(),
    };
  }

  async start(): Promise<void> {
    this.from = await this.read();
  }

  async end(jobs: number): Promise<CpuBreakdown | null> {
    const from = this.from;
    if (!from || jobs <= 0) return null;
    const to = await this.read();
    const us = (seconds: number) => Math.round((seconds * 1e6) / jobs);
    const worker = us(to.worker - from.worker);
    const broker = us(to.broker - from.broker);
    const database = us(to.database - from.database);
    const hostBusy = from.host && to.host && to.host.total > from.host.total ? Math.round((100 * (to.host.busy - from.host.busy)) / (to.host.total - from.host.total)) : null;
    return { us_per_job: { worker, broker, database, total: worker + broker + database }, host_busy_pct: hostBusy };
  }
}
