import { JobRunsRepository } from '../../libs/common/src/index.js';

interface WriteTiming {
  batches: number;
  rows: number;
  ms: number;
  maxMs: number;
}

/** The runtime's batched job_runs writes (start before the handler, settle before the ack), timed for bench reports. */
export const JOB_RUNS_WRITES: Record<'start' | 'settle', WriteTiming> = {
  start: { batches: 0, rows: 0, ms: 0, maxMs: 0 },
  settle: { batches: 0, rows: 0, ms: 0, maxMs: 0 },
};

let timing = false;

/** Wraps JobRunsRepository's start and settle (once per process) to fill JOB_RUNS_WRITES. */
export function timeJobRunsWrites(): void {
  if (timing) return;
  timing = true;
  for (const name of ['start', 'settle'] as const) {
    const proto = JobRunsRepository.prototype as unknown as Record<string, (items: unknown[]) => Promise<unknown>>;
    const original = proto[name];
    proto[name] = async function (this: unknown, items: unknown[]) {
      const t = performance.now();
      try {
        return await original.call(this, items);
      } finally {
        const ms = performance.now() - t;
        const w = JOB_RUNS_WRITES[name];
        w.batches++;
        w.rows += items.length;
        w.ms += ms;
        w.maxMs = Math.max(w.maxMs, ms);
      }
    };
  }
}
