import { OVERFLOW_REDELIVERIES_PER_S, OverflowSpread } from './overflow-spread.js';

/** Redeliveries due per second, from the times they are due (ms). */
function perSecond(due: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of due) out.set(Math.floor(t / 1000), (out.get(Math.floor(t / 1000)) ?? 0) + 1);
  return out;
}

describe('OverflowSpread', () => {
  it('gives a tenant that overflows once the plain deferral delay (10 s and 20 s at the spread centre)', () => {
    const spread = new OverflowSpread(() => 0.5);
    expect(spread.delayFor('acme', 1, 0)).toBe(10_000);
    expect(spread.delayFor('globex', 2, 0)).toBe(20_000);
  });

  it('spreads a flood of 100,000 deferrals so that no second has more than OVERFLOW_REDELIVERIES_PER_S of them due, and none waits longer than it must', () => {
    const spread = new OverflowSpread();
    // 100,000 deferrals of one tenant within 17 s, as the fault suite's backlog is read.
    const due: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const at = Math.floor((i / 100_000) * 17_000);
      due.push(at + spread.delayFor('flood', 1, at));
    }
    const seconds = perSecond(due);
    // With the plain delay (5–15 s) they came back within 10 s (≈ 10,000 a second); stretched at random by the
    // tenant's overflow count, ≈ 2,000 a second for the first half minute.
    expect(Math.max(...seconds.values())).toBeLessThanOrEqual(OVERFLOW_REDELIVERIES_PER_S);
    // Packed, not scattered: every second from the first due to the last but the edges is full.
    const first = Math.min(...seconds.keys());
    const last = Math.max(...seconds.keys());
    expect(last - first).toBeLessThanOrEqual(100_000 / OVERFLOW_REDELIVERIES_PER_S + 2);
    expect(Math.min(...due)).toBeGreaterThanOrEqual(5_000);
  });

  it('still brings back a backlog larger than the longest spread within it, giving up the rate beyond it', () => {
    const spread = new OverflowSpread(() => 0.5, () => 1_000);
    let latest = 0;
    for (let i = 0; i < 1_000_000; i++) latest = Math.max(latest, spread.delayFor('huge', 1, 0));
    expect(latest).toBeLessThanOrEqual(1_000 + 15 * 60_000);
  });

  it('spreads a paused job\'s overflow from its own base delay (the paused recheck), whatever the delivery count', () => {
    const spread = new OverflowSpread(() => 0.5, () => 1_000);
    expect(spread.delayFor('reports.digest', 1, 0)).toBe(1_000);
    expect(spread.delayFor('reports.digest', 7, 0)).toBe(1_000);
    // 30,000 of one paused job's messages handed back within 10 s come back over about 30 s, not every second.
    for (let i = 2; i < 30_000; i++) spread.delayFor('reports.digest', 1, Math.floor(i / 3));
    expect(spread.delayFor('reports.digest', 1, 10_000)).toBeGreaterThan(19_000);
  });

  it('keeps other tenants apart: one tenant\'s flood does not stretch another\'s delay', () => {
    const spread = new OverflowSpread(() => 0.5);
    for (let i = 0; i < 50_000; i++) spread.delayFor('flood', 1, 0);
    expect(spread.delayFor('quiet', 1, 0)).toBe(10_000);
    expect(spread.delayFor('flood', 1, 0)).toBeGreaterThan(55_000);
  });

  it('forgets a tenant once its redeliveries have all come due, so the map does not grow with every tenant that ever overflowed', () => {
    const spread = new OverflowSpread(() => 0.5);
    for (let t = 0; t < 1_000; t++) spread.delayFor(`tenant-${t}`, 1, 0);
    expect(spread.size).toBe(1_000);
    // A minute later every one of them has come back: the next newcomer sweeps them out.
    spread.delayFor('newcomer', 1, 60_000);
    expect(spread.size).toBe(1);
  });
});
