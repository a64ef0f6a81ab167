import type { QuietHoursWindow } from '../members/members.types.js';

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Local wall-clock minutes of the day (and seconds) at `at` in the IANA zone; UTC when the zone is unknown. */
function localClock(at: Date, timezone: string | null): { minutes: number; seconds: number } {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone || 'UTC', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  } catch {
    parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  }
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { minutes: get('hour') * 60 + get('minute'), seconds: get('second') };
}

/**
 * Milliseconds until the quiet hours end when `at` falls inside them (in the
 * member's timezone), else 0. A window may cross midnight (22:00–07:00);
 * start == end means no quiet hours. DST shifts can make the estimate off by
 * the shift; the deferral re-checks when it comes back.
 */
export function msUntilQuietEnds(at: Date, window: QuietHoursWindow | null, timezone: string | null): number {
  if (!window) return 0;
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return 0;
  const { minutes, seconds } = localClock(at, timezone);
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return 0;
  const untilEnd = (end - minutes + 1440) % 1440;
  return Math.max(1_000, untilEnd * 60_000 - seconds * 1_000 - at.getUTCMilliseconds());
}
