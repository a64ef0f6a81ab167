import { deferDelay } from './defer-delay.js';

describe('deferDelay', () => {
  it('grows 10, 20, 40, 60 s with the delivery count and stops growing there', () => {
    const middle = () => 0.5; // the spread's centre
    expect([1, 2, 3, 4, 5, 50].map((n) => deferDelay(n, middle))).toEqual([10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  });

  it('spreads each delay over half to one and a half of itself, so a burst deferred together comes back apart', () => {
    expect(deferDelay(1, () => 0)).toBe(5_000);
    expect(deferDelay(1, () => 0.999999)).toBe(15_000);
    expect(deferDelay(4, () => 0)).toBe(30_000);
    const delays = new Set(Array.from({ length: 200 }, () => deferDelay(2)));
    expect(delays.size).toBeGreaterThan(150);
    for (const d of delays) expect(d >= 10_000 && d <= 30_000).toBe(true);
  });
});
