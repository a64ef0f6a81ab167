/** Rows one retention statement deletes at most, so no statement holds locks for long. */
export const RETENTION_BATCH = 5_000;

/** Repeats a batch delete until a batch comes back short, checking between batches whether the run was aborted. */
export async function drain(step: () => Promise<number>, signal?: AbortSignal): Promise<number> {
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const n = await step();
    total += n;
    if (n < RETENTION_BATCH) return total;
  }
}
