import { OverlappingBatcher } from './overlapping-batcher.js';

/** A write that stays open until the test ends it. */
function heldWrites() {
  const batches: number[][] = [];
  const release: (() => void)[] = [];
  const write = (items: number[]) => {
    batches.push(items);
    return new Promise<void[]>((resolve) => release.push(() => resolve(items.map(() => undefined))));
  };
  return { batches, release, write };
}

describe('OverlappingBatcher', () => {
  it('sends an urgent item at once instead of at the end of the window', async () => {
    const w = heldWrites();
    const b = new OverlappingBatcher<number, void>(w.write, { maxItems: 100, maxDelayMs: 60_000, inFlight: 2 });
    void b.add(1);
    const urgent = b.add(2, true);
    expect(w.batches).toEqual([[1, 2]]);
    w.release[0]();
    await urgent;
  });

  it('sends an urgent item that waited for a busy slot as soon as the slot frees, not a window later', async () => {
    const w = heldWrites();
    const b = new OverlappingBatcher<number, void>(w.write, { maxItems: 100, maxDelayMs: 60_000, inFlight: 1 });
    const first = b.add(1, true);
    const second = b.add(2, true);
    expect(w.batches).toEqual([[1]]);
    w.release[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(w.batches).toEqual([[1], [2]]);
    w.release[1]();
    await second;
  });

  it('leaves a partial batch of ordinary items to the window once a slot frees', async () => {
    const w = heldWrites();
    const b = new OverlappingBatcher<number, void>(w.write, { maxItems: 100, maxDelayMs: 60_000, inFlight: 1 });
    const first = b.add(1, true);
    void b.add(2);
    w.release[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(w.batches).toEqual([[1]]);
    expect(b.queued).toBe(1);
  });

  it('keeps an urgent item that comes while a batch is being written for the next batch instead of writing it alone', async () => {
    const w = heldWrites();
    const b = new OverlappingBatcher<number, void>(w.write, { maxItems: 100, maxDelayMs: 60_000, inFlight: 3 });
    const first = b.add(1, true);
    const later = [b.add(2, true), b.add(3), b.add(4, true)];
    expect(w.batches).toEqual([[1]]);
    w.release[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    w.release[1]();
    await Promise.all(later);
  });

  it('tells each caller of addThen its own result, and one whose completion throws keeps no other from its own', async () => {
    const w = heldWrites();
    const told: string[] = [];
    const b = new OverlappingBatcher<number, void>(w.write, { maxItems: 3, maxDelayMs: 60_000, inFlight: 1, completionFailed: (e) => told.push(`broken: ${(e as Error).message}`) });
    b.addThen(1, false, { resolve: () => told.push('1 ok'), reject: () => told.push('1 failed') });
    b.addThen(2, false, { resolve: () => { throw new Error('a caller broke'); }, reject: () => told.push('2 failed') });
    b.addThen(3, false, { resolve: () => told.push('3 ok'), reject: () => told.push('3 failed') });
    expect(w.batches).toEqual([[1, 2, 3]]);
    w.release[0]();
    await new Promise((r) => setImmediate(r));
    expect(told).toEqual(['1 ok', '3 ok', 'broken: a caller broke']);
  });
});

