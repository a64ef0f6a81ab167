import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('is toISOString for times in one second, across seconds, repeated, before 1970 and in far years', () => {
    const times = [
      Date.UTC(2026, 11, 6, 4, 13, 19, 0), Date.UTC(2026, 11, 6, 4, 13, 19, 7), Date.UTC(2026, 11, 6, 4, 13, 19, 42),
      Date.UTC(2026, 11, 6, 4, 13, 19, 999), Date.UTC(2026, 11, 6, 4, 13, 20, 1), -1, -999, -1001, 0,
      Date.UTC(12026, 0, 1, 0, 0, 0, 5), Date.UTC(2026, 11, 6, 4, 13, 19, 500), Date.UTC(2026, 11, 6, 4, 13, 19, 500), Date.UTC(2026, 11, 6, 4, 13, 19, 7),
    ];
    for (const t of times) expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
  });

  it('throws as toISOString does for an invalid date', () => {
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
