import { nextFireTimes, parseCron } from './cron-expression.js';
import { localTimeOf, previewCron } from './cron-preview.js';

const at = (s: string) => new Date(s);
const iso = (d: Date) => d.toISOString().replace(':00.000Z', 'Z');

function preview(expr: string, tz: string, after: string, count: number) {
  const p = previewCron(parseCron(expr), tz, at(after), count);
  return {
    policy: p.policy,
    firings: p.firings.map((f) => ({ at: iso(f.at), local: f.local, offset: f.offset, dst: f.dst && 'repeatSkippedAt' in f.dst ? { ...f.dst, repeatSkippedAt: iso(f.dst.repeatSkippedAt) } : f.dst })),
    skipped: p.skipped.map((s) => ({ local: s.local, transitionAt: iso(s.transitionAt) })),
  };
}

describe('previewCron (Europe/Berlin: forward 2026-03-29 02:00→03:00, back 2026-10-25 03:00→02:00)', () => {
  it('fires exactly when nextFireTimes does', () => {
    for (const expr of ['30 2 * * *', '0,30 2 * * *', '*/20 * * * *', '0 * * * *']) {
      const after = at('2026-03-28T20:00Z');
      expect(previewCron(parseCron(expr), 'Europe/Berlin', after, 12).firings.map((f) => f.at)).toEqual(nextFireTimes(parseCron(expr), 'Europe/Berlin', after, 12));
    }
  });

  it('marks a fixed time inside the spring-forward gap as shifted to the end of the gap', () => {
    expect(preview('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00Z', 3)).toEqual({
      policy: 'fixed-time',
      firings: [
        { at: '2026-03-28T01:30Z', local: '2026-03-28T02:30:00', offset: '+01:00', dst: null },
        { at: '2026-03-29T01:00Z', local: '2026-03-29T03:00:00', offset: '+02:00', dst: { kind: 'shifted', scheduledLocal: ['2026-03-29T02:30:00'] } },
        { at: '2026-03-30T00:30Z', local: '2026-03-30T02:30:00', offset: '+02:00', dst: null },
      ],
      skipped: [],
    });
  });

  it('lists every wall time of the gap that collapsed into the one shifted firing', () => {
    const p = preview('0,30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00Z', 2);
    expect(p.firings[0]).toEqual({ at: '2026-03-29T01:00Z', local: '2026-03-29T03:00:00', offset: '+02:00', dst: { kind: 'shifted', scheduledLocal: ['2026-03-29T02:00:00', '2026-03-29T02:30:00'] } });
    expect(p.firings[1].at).toBe('2026-03-30T00:00Z');
  });

  it('does not mark a fixed time that merely lands on the instant the gap ends', () => {
    expect(preview('0 3 * * *', 'Europe/Berlin', '2026-03-28T12:00Z', 1).firings).toEqual([{ at: '2026-03-29T01:00Z', local: '2026-03-29T03:00:00', offset: '+02:00', dst: null }]);
  });

  it('marks a fixed time that occurs twice as folded: first occurrence only, the repeat is skipped', () => {
    expect(preview('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00Z', 2).firings).toEqual([
      { at: '2026-10-25T00:30Z', local: '2026-10-25T02:30:00', offset: '+02:00', dst: { kind: 'folded', repeatSkippedAt: '2026-10-25T01:30Z' } },
      { at: '2026-10-26T01:30Z', local: '2026-10-26T02:30:00', offset: '+01:00', dst: null },
    ]);
  });

  it('clock-following: the hour the clocks skip is listed as skipped, nothing is shifted', () => {
    expect(preview('0 * * * *', 'Europe/Berlin', '2026-03-28T23:30Z', 3)).toEqual({
      policy: 'clock-following',
      firings: [
        { at: '2026-03-29T00:00Z', local: '2026-03-29T01:00:00', offset: '+01:00', dst: null },
        { at: '2026-03-29T01:00Z', local: '2026-03-29T03:00:00', offset: '+02:00', dst: null },
        { at: '2026-03-29T02:00Z', local: '2026-03-29T04:00:00', offset: '+02:00', dst: null },
      ],
      skipped: [{ local: '2026-03-29T02:00:00', transitionAt: '2026-03-29T01:00Z' }],
    });
  });

  it('clock-following: the repeated hour fires on both passes', () => {
    expect(preview('0 * * * *', 'Europe/Berlin', '2026-10-24T23:30Z', 3).firings).toEqual([
      { at: '2026-10-25T00:00Z', local: '2026-10-25T02:00:00', offset: '+02:00', dst: { kind: 'repeated', pass: 1 } },
      { at: '2026-10-25T01:00Z', local: '2026-10-25T02:00:00', offset: '+01:00', dst: { kind: 'repeated', pass: 2 } },
      { at: '2026-10-25T02:00Z', local: '2026-10-25T03:00:00', offset: '+01:00', dst: null },
    ]);
  });

  it('lists skipped wall times only up to the last firing shown, and at most 12 per gap', () => {
    expect(preview('0 * * * *', 'Europe/Berlin', '2026-03-28T20:00Z', 2).skipped).toEqual([]);
    expect(preview('* * * * *', 'Europe/Berlin', '2026-03-29T00:58Z', 5).skipped).toHaveLength(12);
  });
});

describe('previewCron in zones with half-hour and :45 offsets', () => {
  it('Lord Howe: 02:00 inside the 30-minute gap fires at 02:30', () => {
    expect(preview('0 2 * * *', 'Australia/Lord_Howe', '2026-10-03T00:00Z', 1).firings).toEqual([
      { at: '2026-10-03T15:30Z', local: '2026-10-04T02:30:00', offset: '+11:00', dst: { kind: 'shifted', scheduledLocal: ['2026-10-04T02:00:00'] } },
    ]);
  });

  it('Chatham: 03:00 repeated on 2026-04-05 fires once, the :45 offset shown', () => {
    const [first] = preview('0 3 * * *', 'Pacific/Chatham', '2026-04-04T00:00Z', 1).firings;
    expect(first).toEqual({ at: '2026-04-04T13:15Z', local: '2026-04-05T03:00:00', offset: '+13:45', dst: { kind: 'folded', repeatSkippedAt: '2026-04-04T14:15Z' } });
  });
});

describe('localTimeOf', () => {
  it('reads an instant on the local clock of a zone', () => {
    expect(localTimeOf(at('2026-07-01T12:00Z'), 'America/New_York')).toEqual({ local: '2026-07-01T08:00:00', offset: '-04:00' });
    expect(localTimeOf(at('2026-07-01T12:00Z'), 'UTC')).toEqual({ local: '2026-07-01T12:00:00', offset: '+00:00' });
  });
});
