import { backoffDelay, type BackoffPolicy } from './backoff.js';

const noJitter = () => 0;

describe('backoffDelay', () => {
  it('doubles for exponential and stops at the cap', () => {
    const p: BackoffPolicy = { kind: 'exponential', baseMs: 100, capMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(p, a, noJitter))).toEqual([100, 200, 400, 800, 1_000]);
  });
  it('adds the base for linear and keeps it for fixed', () => {
    expect([1, 2, 3].map((a) => backoffDelay({ kind: 'linear', baseMs: 50, capMs: 10_000, jitter: 0 }, a))).toEqual([50, 100, 150]);
    expect([1, 5].map((a) => backoffDelay({ kind: 'fixed', baseMs: 70, capMs: 10_000, jitter: 0 }, a))).toEqual([70, 70]);
  });
  it('jitter shortens the delay by at most its share', () => {
    const p: BackoffPolicy = { kind: 'fixed', baseMs: 1_000, capMs: 1_000, jitter: 0.5 };
    expect(backoffDelay(p, 1, () => 1)).toBe(500);
    expect(backoffDelay(p, 1, () => 0)).toBe(1_000);
  });
});
