import { describe, expect, it } from '@jest/globals';
import { parsePriority, toPriority } from './priority.js';

describe('priorities as names or the seeds numbers', () => {
  it('maps 1/5/10/15 to critical/high/normal/low, names to themselves, numeric strings like numbers', () => {
    expect([1, 5, 10, 15].map((n) => parsePriority(n))).toEqual(['critical', 'high', 'normal', 'low']);
    expect(['1', '15', 'high'].map(parsePriority)).toEqual(['critical', 'low', 'high']);
  });

  it('refuses anything else', () => {
    for (const bad of [0, 2, 11, 16, '01.0', 'urgent', '', null, undefined, 1.5, '5 ']) expect(parsePriority(bad)).toBeUndefined();
    expect(() => toPriority(3)).toThrow(/critical or 1, high or 5, normal or 10, low or 15/);
  });
});
