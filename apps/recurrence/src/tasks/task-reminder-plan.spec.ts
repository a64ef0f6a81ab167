import { planTaskReminders, reminderOffsets } from './task-reminder-plan.js';

describe('task reminder offsets', () => {
  it('reads ISO 8601 and compact durations, once per length, longest first', () => {
    expect(reminderOffsets(['PT1H', 'P1D', '60m', 'PT15M'])).toEqual([
      { text: 'P1D', ms: 86_400_000 },
      { text: 'PT1H', ms: 3_600_000 },
      { text: 'PT15M', ms: 900_000 },
    ]);
  });

  it('refuses what is not a duration, shorter than a minute or longer than 366 days, and more than ten', () => {
    expect(() => reminderOffsets(['tomorrow'])).toThrow(/"tomorrow" is not a duration/);
    expect(() => reminderOffsets(['PT30S'])).toThrow(/between PT1M and P366D/);
    expect(() => reminderOffsets(['P400D'])).toThrow(/between PT1M and P366D/);
    expect(() => reminderOffsets(Array.from({ length: 11 }, (_, i) => `PT${i + 1}M`))).toThrow(/at most 10/);
  });
});

describe('planTaskReminders', () => {
  const offsets = reminderOffsets(['P1D', 'PT1H']);

  it('plans each offset as an exact length before the due time, also across the Berlin spring-forward', () => {
    const now = new Date('2026-03-28T00:00:00Z');
    const due = new Date('2026-03-29T10:00:00Z'); // 12:00 CEST on the day clocks moved
    expect(planTaskReminders('acme', [{ id: 't1', dueAt: due }], offsets, now).map((r) => [r.id, r.dueAt.toISOString()])).toEqual([
      ['t1:86400000', '2026-03-28T10:00:00.000Z'], // 24 real hours: 11:00 CET the day before, not 12:00
      ['t1:3600000', '2026-03-29T09:00:00.000Z'],
    ]);
  });

  it('skips reminders whose instant has passed', () => {
    const now = new Date('2026-03-28T12:00:00Z');
    expect(planTaskReminders('acme', [{ id: 't2', dueAt: new Date('2026-03-28T12:30:00Z') }], offsets, now)).toEqual([]);
    expect(planTaskReminders('acme', [{ id: 't3', dueAt: new Date('2026-03-28T14:00:00Z') }], offsets, now).map((r) => r.offsetText)).toEqual(['PT1H']);
  });
});
