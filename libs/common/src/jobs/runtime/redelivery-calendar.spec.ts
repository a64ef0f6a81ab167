import { RedeliveryCalendar } from './redelivery-calendar.js';

describe('RedeliveryCalendar', () => {
  const half = () => 0.5;

  it('places a message at its own time while its second has room, then in the next second with room', () => {
    const calendar = new RedeliveryCalendar(2);
    expect(calendar.place(5_100, half, 0)).toBe(5_100);
    expect(calendar.place(5_900, half, 0)).toBe(5_900);
    expect(calendar.place(5_200, half, 0)).toBe(6_500);
    expect(calendar.place(6_000, half, 0)).toBe(6_000);
    expect(calendar.place(5_000, half, 0)).toBe(7_500);
    expect(calendar.lastDueMs).toBe(8_000);
  });

  it('leaves a later second with room to a message that wants it, after a full run of seconds before it', () => {
    const calendar = new RedeliveryCalendar(1);
    for (let i = 0; i < 3; i++) calendar.place(1_000, half, 0);
    expect(calendar.place(10_250, half, 0)).toBe(10_250);
    expect(calendar.place(1_000, half, 0)).toBe(4_500);
  });

  it('forgets the seconds gone by: a second in the past that was full has room again for nothing, a new one starts empty', () => {
    const calendar = new RedeliveryCalendar(1);
    calendar.place(1_000, half, 0);
    expect(calendar.place(1_000, half, 0)).toBe(2_500);
    // At 3 s the first two seconds are gone; a message due from 3 s on gets 3 s.
    expect(calendar.place(3_000, half, 3_000)).toBe(3_000);
    expect(calendar.place(3_100, half, 3_000)).toBe(4_500);
  });
});
