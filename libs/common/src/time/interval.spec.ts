import { InvalidIntervalError, createInterval, nextIntervalFire, parseDuration, previousIntervalFire } from './interval.js';

const at = (s: string) => new Date(s);

describe('createInterval', () => {
  it('accepts whole milliseconds of at least one second', () => {
    const spec = createInterval(1_000, at('2026-01-01T00:00:00Z'));
    expect(spec).toEqual({ everyMs: 1_000, anchor: at('2026-01-01T00:00:00Z') });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(createInterval(1_500, at('2026-01-01T00:00:00Z')).everyMs).toBe(1_500);
  });

  it.each([999, 0, -1_000, 1_000.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects a period of %p ms', (ms) => {
    expect(() => createInterval(ms, at('2026-01-01T00:00:00Z'))).toThrow(InvalidIntervalError);
    expect(() => createInterval(ms, at('2026-01-01T00:00:00Z'))).toThrow(/>= 1000 \(1 second\)/);
  });

  it('rejects an invalid anchor and copies a valid one', () => {
    expect(() => createInterval(60_000, new Date('nope'))).toThrow(/anchor must be a valid Date/);
    const anchor = at('2026-01-01T00:00:00Z');
    const spec = createInterval(60_000, anchor);
    anchor.setTime(0);
    expect(spec.anchor.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('nextIntervalFire / previousIntervalFire', () => {
  const spec = createInterval(15 * 60_000, at('2026-01-01T10:07:00Z'));

  it('fires at the anchor and whole periods after it, strictly after `after`', () => {
    expect(nextIntervalFire(spec, at('2025-12-31T00:00:00Z')).toISOString()).toBe('2026-01-01T10:07:00.000Z');
    expect(nextIntervalFire(spec, at('2026-01-01T10:06:59.999Z')).toISOString()).toBe('2026-01-01T10:07:00.000Z');
    expect(nextIntervalFire(spec, at('2026-01-01T10:07:00Z')).toISOString()).toBe('2026-01-01T10:22:00.000Z');
    expect(nextIntervalFire(spec, at('2026-01-01T10:21:59Z')).toISOString()).toBe('2026-01-01T10:22:00.000Z');
    expect(nextIntervalFire(spec, at('2026-03-01T00:00:00Z')).toISOString()).toBe('2026-03-01T00:07:00.000Z');
  });

  it('ignores DST: an interval is real elapsed time', () => {
    const daily = createInterval(86_400_000, at('2026-03-28T01:30:00Z')); // 02:30 CET in Berlin
    expect(nextIntervalFire(daily, at('2026-03-28T01:30:00Z')).toISOString()).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
  });

  it('previous fire is at or before the instant, null before the anchor', () => {
    expect(previousIntervalFire(spec, at('2026-01-01T10:06:59Z'))).toBeNull();
    expect(previousIntervalFire(spec, at('2026-01-01T10:07:00Z'))?.toISOString()).toBe('2026-01-01T10:07:00.000Z');
    expect(previousIntervalFire(spec, at('2026-01-01T10:36:59Z'))?.toISOString()).toBe('2026-01-01T10:22:00.000Z');
  });

  it('is consistent: next(previous(t)) is the first fire after it', () => {
    for (let t = Date.parse('2026-01-01T10:00:00Z'); t < Date.parse('2026-01-01T12:00:00Z'); t += 61_000) {
      const next = nextIntervalFire(spec, new Date(t)).getTime();
      const prev = previousIntervalFire(spec, new Date(t));
      expect(next).toBeGreaterThan(t);
      expect(next - t).toBeLessThanOrEqual(spec.everyMs);
      if (prev) expect(next - prev.getTime()).toBe(spec.everyMs);
    }
  });

  it('rejects an invalid `after`', () => {
    expect(() => nextIntervalFire(spec, new Date('nope'))).toThrow(RangeError);
    expect(() => previousIntervalFire(spec, new Date('nope'))).toThrow(RangeError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1500ms', 1_500],
    ['1H', 3_600_000],
    [' 10m ', 600_000],
    ['PT15M', 900_000],
    ['PT1H30M', 5_400_000],
    ['P1DT2H', 93_600_000],
    ['P2W', 1_209_600_000],
    ['PT0.5S', 500],
    ['pt45s', 45_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '15', 'abc', 'P', 'PT', '1x', '-5m', 'P1Y', 'P1M', '0s', 'PT0S'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidIntervalError);
  });

  it('says why years and months are refused', () => {
    expect(() => parseDuration('P1M')).toThrow(/no fixed length/);
  });
});
