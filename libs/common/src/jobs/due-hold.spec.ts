import { jest } from '@jest/globals';
import { DueHold } from './due-hold.js';

describe('DueHold', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('releases each group at its due instant, not before, with everything due then together', () => {
    const released: string[][] = [];
    const hold = new DueHold<string>((items) => released.push(items));
    hold.hold(1_000_500, 'a');
    hold.hold(1_000_500, 'b');
    hold.hold(1_000_200, 'c');
    expect(hold.size).toBe(3);
    jest.advanceTimersByTime(199);
    expect(released).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(released).toEqual([['c']]);
    jest.advanceTimersByTime(299);
    expect(released).toEqual([['c']]);
    jest.advanceTimersByTime(1);
    expect(released).toEqual([['c'], ['a', 'b']]);
    expect(hold.size).toBe(0);
  });

  it('drain stops the timers and hands back every held item with its due instant', () => {
    const released: number[][] = [];
    const hold = new DueHold<number>((items) => released.push(items));
    hold.hold(1_000_100, 1);
    hold.hold(1_000_300, 2);
    expect([...hold.all()].sort()).toEqual([1, 2]);
    expect(hold.drain().sort((x, y) => x.item - y.item)).toEqual([{ dueAt: 1_000_100, item: 1 }, { dueAt: 1_000_300, item: 2 }]);
    jest.advanceTimersByTime(1_000);
    expect(released).toEqual([]);
    expect(hold.size).toBe(0);
  });

  it('never releases before the wall clock reaches the instant, even when its timer fires early', () => {
    let skew = 0;
    const released: string[][] = [];
    const hold = new DueHold<string>((items) => released.push(items), () => Date.now() + skew);
    hold.hold(1_000_100, 'x');
    skew = -1; // by the time the timer fires, the wall clock reads one ms behind the timer's clock
    jest.advanceTimersByTime(100);
    expect(released).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(released).toEqual([['x']]);
  });

  it('an instant already past is released on the next turn of the event loop', () => {
    const released: string[][] = [];
    const hold = new DueHold<string>((items) => released.push(items));
    hold.hold(999_000, 'late');
    jest.advanceTimersByTime(0);
    expect(released).toEqual([['late']]);
  });
});
