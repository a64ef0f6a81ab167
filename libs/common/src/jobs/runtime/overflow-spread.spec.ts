import { OVERFLOW_REDELIVERIES_PER_S, OverflowSpread } from './overflow-spread.js';

describe('OverflowSpread', () => {
  it('gives a tenant that overflows once the plain deferral delay (10 s and 20 s at the spread centre, plus 1 ms for one deferral)', () => {
    const spread = new OverflowSpread(() => 0.5);
    expect(spread.delayFor('acme', 1, 0)).toBe(10_001);
    expect(spread.delayFor('globex', 2, 0)).toBe(20_001);
  });

  it('spreads a flood of 100,000 deferrals so they come back at about OVERFLOW_REDELIVERIES_PER_S, not in a wave', () => {
    const spread = new OverflowSpread();
    // 100,000 deferrals of one tenant within 15 s, as the fault suite's backlog is read.
    const due: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const at = Math.floor((i / 100_000) * 15_000);
      due.push(at + spread.delayFor('flood', 1, at));
    }
    const perSecond = new Map<number, number>();
    for (const t of due) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    const busiest = Math.max(...perSecond.values());
    // With the plain delay (5–15 s) they came back within 10 s: ≈ 10,000 a second at the peak.
    expect(busiest).toBeLessThan(3 * OVERFLOW_REDELIVERIES_PER_S);
    expect(Math.max(...due)).toBeLessThan(15 * 60_000 + 30_000);
  });

  it('spreads a paused job\'s overflow from its own base delay (the paused recheck), whatever the delivery count', () => {
    const spread = new OverflowSpread(() => 0.5, () => 1_000);
    expect(spread.delayFor('reports.digest', 1, 0)).toBe(1_001);
    expect(spread.delayFor('reports.digest', 7, 0)).toBe(1_001);
    // 30,000 of one paused job's messages handed back within 10 s come back over about 30 s, not every second.
    for (let i = 0; i < 30_000; i++) spread.delayFor('reports.digest', 1, Math.floor(i / 3));
    expect(spread.delayFor('reports.digest', 1, 10_000)).toBeGreaterThan(13_000);
  });

  it('keeps other tenants apart: one tenant\'s flood does not stretch another\'s delay', () => {
    const spread = new OverflowSpread(() => 0.5);
    for (let i = 0; i < 50_000; i++) spread.delayFor('flood', 1, 0);
    expect(spread.delayFor('quiet', 1, 0)).toBe(10_001);
    expect(spread.delayFor('flood', 1, 0)).toBeGreaterThan(30_000);
  });

  it('forgets a tenant whose overflow has decayed, so the map does not grow with every tenant that ever overflowed', () => {
    const spread = new OverflowSpread(() => 0.5);
    for (let t = 0; t < 1_000; t++) spread.delayFor(`tenant-${t}`, 1, 0);
    expect(spread.size).toBe(1_000);
    // Ten minutes later their counts have decayed below one: the next newcomer sweeps them out.
    spread.delayFor('newcomer', 1, 600_000);
    expect(spread.size).toBe(1);
  });
});
