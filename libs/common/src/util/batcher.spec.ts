import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('writes concurrent adds in one flush and resolves each caller after it', async () => {
    const flushes: number[][] = [];
    const b = new Batcher<number>(async (items) => {
      flushes.push(items);
    }, { maxItems: 100, maxDelayMs: 5 });
    await Promise.all([1, 2, 3].map((n) => b.add(n)));
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('flushes at maxItems without waiting for the timer', async () => {
    const flushes: number[][] = [];
    const b = new Batcher<number>(async (items) => {
      flushes.push(items);
    }, { maxItems: 2, maxDelayMs: 60_000 });
    await Promise.all([b.add(1), b.add(2)]);
    expect(flushes).toEqual([[1, 2]]);
  });

  it('rejects every caller of a failed flush', async () => {
    const b = new Batcher<number>(async () => {
      throw new Error('db down');
    }, { maxItems: 10, maxDelayMs: 1 });
    await expect(Promise.all([b.add(1), b.add(2)])).rejects.toThrow('db down');
  });
});
