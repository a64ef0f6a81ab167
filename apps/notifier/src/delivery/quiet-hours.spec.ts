import { msUntilQuietEnds } from './quiet-hours.js';

describe('msUntilQuietEnds', () => {
  const night = { start: '22:00', end: '07:00' };

  it('is 0 outside the window and without one', () => {
    expect(msUntilQuietEnds(new Date('2025-06-02T12:00:00Z'), night, 'UTC')).toBe(0);
    expect(msUntilQuietEnds(new Date('2025-06-02T23:00:00Z'), null, 'UTC')).toBe(0);
    expect(msUntilQuietEnds(new Date('2025-06-02T23:00:00Z'), { start: '00:00', end: '00:00' }, 'UTC')).toBe(0);
  });

  it('counts to the end across midnight', () => {
    expect(msUntilQuietEnds(new Date('2025-06-02T23:00:00Z'), night, 'UTC')).toBe(8 * 3600_000);
    expect(msUntilQuietEnds(new Date('2025-06-03T06:59:30Z'), night, 'UTC')).toBe(30_000);
    expect(msUntilQuietEnds(new Date('2025-06-03T07:00:00Z'), night, 'UTC')).toBe(0);
  });

  it('reads the clock in the member\'s timezone', () => {
    // 21:30 UTC is 23:30 in Berlin (CEST): inside, 7.5 h to go.
    expect(msUntilQuietEnds(new Date('2025-06-02T21:30:00Z'), night, 'Europe/Berlin')).toBe(7.5 * 3600_000);
    // 21:30 UTC is 17:30 in New York: outside.
    expect(msUntilQuietEnds(new Date('2025-06-02T21:30:00Z'), night, 'America/New_York')).toBe(0);
    // A same-day window.
    expect(msUntilQuietEnds(new Date('2025-06-02T12:15:00Z'), { start: '12:00', end: '13:00' }, 'UTC')).toBe(45 * 60_000);
  });

  it('falls back to UTC for an unknown zone', () => {
    expect(msUntilQuietEnds(new Date('2025-06-02T23:00:00Z'), night, 'Not/AZone')).toBe(8 * 3600_000);
  });
});
