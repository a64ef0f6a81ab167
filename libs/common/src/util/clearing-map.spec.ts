import { describe, expect, it } from '@jest/globals';
import { ClearingMap } from './clearing-map.js';

describe('ClearingMap', () => {
  it('keeps, replaces, lists and deletes values as a Map does', () => {
    const m = new ClearingMap<string, { n: number }>();
    const a = { n: 1 };
    m.set('a', a).set('b', { n: 2 });
    expect(m.get('a')).toBe(a);
    expect(m.size).toBe(2);
    m.set('a', { n: 3 });
    expect(m.get('a')).toEqual({ n: 3 });
    expect([...m.values()].map((v) => v.n)).toEqual([3, 2]);
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    expect(m.get('a')).toBeUndefined();
    expect(m.size).toBe(1);
    expect([...m.values()]).toEqual([{ n: 2 }]);
  });

  it('starts a key deleted and set again with the new value only', () => {
    const m = new ClearingMap<string, string>();
    m.set('k', 'old');
    m.delete('k');
    m.set('k', 'new');
    expect([...m.values()]).toEqual(['new']);
  });

  it('deletes an entry only while it holds the given value, when one is given', () => {
    const m = new ClearingMap<string, { n: number }>();
    const first = { n: 1 };
    const second = { n: 2 };
    m.set('k', first).set('k', second);
    expect(m.delete('k', first)).toBe(false);
    expect(m.get('k')).toBe(second);
    expect(m.delete('k', second)).toBe(true);
    expect(m.size).toBe(0);
  });
});
