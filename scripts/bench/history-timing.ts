import { HistoryRepository } from '../../libs/common/src/index.js';

export interface WriteTiming {
  batches: number;
  rows: number;
  ms: number;
  maxMs: number;
}

/** The runtime's batched run-history writes (job_attempts, one statement per batch, committed before the acks), timed for bench reports. */
export const HISTORY_WRITES: WriteTiming = { batches: 0, rows: 0, ms: 0, maxMs: 0 };

let timing = false;

/** Wraps HistoryRepository.write (once per process) to fill HISTORY_WRITES. */
export function timeHistoryWrites(): void {
  if (timing) return;
  timing = true;
  const proto = HistoryRepository.prototype;
  const original = proto.write;
  proto.write = async function (this: HistoryRepository, ...args: Parameters<HistoryRepository['write']>) {
    const [items] = args;
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      const ms = performance.now() - t;
      HISTORY_WRITES.batches++;
      HISTORY_WRITES.rows += items.length;
      HISTORY_WRITES.ms += ms;
      HISTORY_WRITES.maxMs = Math.max(HISTORY_WRITES.maxMs, ms);
    }
  };
}

export function describeWrites(w: WriteTiming): string {
  return `${w.batches} batches, ${(w.rows / Math.max(1, w.batches)).toFixed(1)} rows each, ${(w.ms / Math.max(1, w.batches)).toFixed(2)} ms each (max ${w.maxMs.toFixed(1)})`;
}
