import { describe, expect, it } from '@jest/globals';
import { TenantRing } from './tenant-ring.js';

const order = (r: TenantRing): string[] => Array.from({ length: r.length }, (_, k) => r.at(k));

describe('TenantRing', () => {
  it('keeps the round in order through growth past its first size and wrap-around', () => {
    const r = new TenantRing();
    for (let i = 0; i < 10; i++) r.push(`t${i}`);
    r.rotate(7);
    for (let i = 10; i < 40; i++) r.push(`t${i}`);
    const expected = [...['t7', 't8', 't9'], ...Array.from({ length: 7 }, (_, i) => `t${i}`), ...Array.from({ length: 30 }, (_, i) => `t${i + 10}`)];
    expect(order(r)).toEqual(expected);
    expect(r.shift()).toBe('t7');
    expect(r.length).toBe(39);
  });

  it('takes a tenant out of the middle and keeps the others in turn', () => {
    const r = new TenantRing();
    for (const t of ['a', 'b', 'c', 'd']) r.push(t);
    r.rotate(2);
    r.remove('d');
    expect(order(r)).toEqual(['c', 'a', 'b']);
    r.remove('x');
    expect(order(r)).toEqual(['c', 'a', 'b']);
  });
});
