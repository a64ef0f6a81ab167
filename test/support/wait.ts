/** Polls until the check returns a truthy value; fails with the last value seen. */
export async function waitFor<T>(check: () => Promise<T> | T, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
