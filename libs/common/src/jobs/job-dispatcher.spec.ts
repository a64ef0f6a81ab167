import { describe, expect, it } from '@jest/globals';
import type { Priority } from '../messaging/subjects.js';
import { JobDispatcher, type DispatchPolicy, type Waiting } from './job-dispatcher.js';

function policy(overrides: Partial<DispatchPolicy> = {}): DispatchPolicy {
  return {
    slots: 1_000,
    tenantBuffer: 100,
    laneCapacity: 1_000,
    tenantConcurrency: () => 0,
    jobConcurrency: () => 0,
    isPaused: () => false,
    ...overrides,
  };
}

const waiting = (item: string, tenant: string, priority: Priority = 'normal', job = 'j'): Waiting<string> => ({ item, tenant, priority, job });

/** Takes messages until none is eligible, giving each slot back at once unless `hold`. */
function drain(d: JobDispatcher<string>, hold = false): string[] {
  const out: string[] = [];
  for (let w = d.next(); w; w = d.next()) {
    out.push(w.item);
    if (!hold) d.done(w);
  }
  return out;
}

describe('JobDispatcher', () => {
  it('takes tenants in turn inside a priority, a backlog one turn per round', () => {
    const d = new JobDispatcher<string>(policy());
    for (const item of ['a1', 'a2', 'a3', 'a4']) d.offer(waiting(item, 'a'));
    d.offer(waiting('b1', 'b'));
    d.offer(waiting('c1', 'c'));
    d.offer(waiting('c2', 'c'));
    expect(drain(d)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'a4']);
    expect(d.waiting).toBe(0);
  });

  it('keeps the round going when a tenant empties and another one arrives', () => {
    const d = new JobDispatcher<string>(policy());
    d.offer(waiting('a1', 'a'));
    d.offer(waiting('b1', 'b'));
    d.offer(waiting('b2', 'b'));
    const first = d.next()!;
    d.done(first);
    d.offer(waiting('c1', 'c'));
    d.offer(waiting('a2', 'a'));
    expect([first.item, ...drain(d)]).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
  });

  it('gives thousands of tenants one turn each per round while they empty and come back', () => {
    const d = new JobDispatcher<string>(policy({ laneCapacity: 20_000 }));
    const tenants = Array.from({ length: 6_000 }, (_, i) => `t${i}`);
    for (const t of tenants) d.offer(waiting(`${t}-1`, t));
    for (const t of tenants.slice(0, 3_000)) d.offer(waiting(`${t}-2`, t));
    expect(drain(d)).toEqual([...tenants.map((t) => `${t}-1`), ...tenants.slice(0, 3_000).map((t) => `${t}-2`)]);
    expect(d.waiting).toBe(0);
    for (const t of tenants.slice(0, 2)) d.offer(waiting(`${t}-3`, t));
    expect(drain(d)).toEqual(['t0-3', 't1-3']);
  });

  it('shares dispatches 8:4:2:1 between backlogged priorities, and takes critical work next once it arrives', () => {
    const d = new JobDispatcher<string>(policy());
    for (let i = 0; i < 30; i++) for (const p of ['high', 'normal', 'low'] as const) d.offer(waiting(`${p}${i}`, 't', p));
    const taken = drain(d).slice(0, 21);
    const count = (p: string) => taken.filter((x) => x.startsWith(p)).length;
    expect([count('high'), count('normal'), count('low')]).toEqual([12, 6, 3]);
    d.offer(waiting('urgent', 't', 'critical'));
    expect(d.next()!.item).toBe('urgent');
  });

  it('refuses a message over its tenant buffer or lane capacity, so its reader defers it', () => {
    const d = new JobDispatcher<string>(policy({ tenantBuffer: 2, laneCapacity: 3 }));
    expect([d.offer(waiting('a1', 'a')), d.offer(waiting('a2', 'a')), d.offer(waiting('a3', 'a'))]).toEqual([true, true, false]);
    expect(d.offer(waiting('b1', 'b'))).toBe(true);
    expect(d.hasRoom('normal')).toBe(false);
    expect(d.offer(waiting('c1', 'c'))).toBe(false);
    expect(d.hasRoom('high')).toBe(true);
    expect(d.hasRoom('high', 3)).toBe(true);
    expect(d.hasRoom('high', 4)).toBe(false);
    d.offer(waiting('h1', 'h', 'high'));
    expect(d.hasRoom('high', 2)).toBe(true);
    expect(d.hasRoom('high', 3)).toBe(false);
  });

  it('holds slots: nothing is handed out while every slot runs', () => {
    const d = new JobDispatcher<string>(policy({ slots: 2 }));
    for (const item of ['a1', 'b1', 'c1']) d.offer(waiting(item, item[0]!));
    expect(drain(d, true)).toEqual(['a1', 'b1']);
    expect(d.inFlight).toBe(2);
  });

  it('skips a tenant at its concurrency cap for the next tenant, and paused jobs for the rest', () => {
    const d = new JobDispatcher<string>(policy({ tenantConcurrency: () => 1, isPaused: (job) => job === 'paused' }));
    d.offer(waiting('a1', 'a'));
    d.offer(waiting('a2', 'a'));
    d.offer(waiting('b-paused', 'b', 'normal', 'paused'));
    d.offer(waiting('b1', 'b'));
    expect(drain(d, true)).toEqual(['a1', 'b1']);
    expect(d.waiting).toBe(2);
  });

  it('removes the waiting messages a predicate matches and keeps the rest in order', () => {
    const d = new JobDispatcher<string>(policy());
    d.offer(waiting('a1', 'a', 'normal', 'x'));
    d.offer(waiting('a2', 'a', 'normal', 'y'));
    d.offer(waiting('b1', 'b', 'normal', 'x'));
    d.offer(waiting('c1', 'c', 'low', 'y'));
    expect(d.remove((w) => w.job === 'x').map((w) => w.item).sort()).toEqual(['a1', 'b1']);
    expect(d.waiting).toBe(2);
    expect(drain(d)).toEqual(['a2', 'c1']);
  });
});
