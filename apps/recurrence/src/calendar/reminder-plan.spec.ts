import { planReminders, reminderId, reminderJobKey } from './reminder-plan.js';

const event = { id: 'e1', companyId: 'acme', revision: 2, reminderOffsetsMinutes: [1440, 15] };

describe('reminder planning', () => {
  it('plans one reminder per occurrence and offset, due exactly offset minutes before the start', () => {
    const starts = [new Date('2026-03-30T07:00:00Z'), new Date('2026-04-06T07:00:00Z')];
    const planned = planReminders(event, starts, new Date('2026-03-01T00:00:00Z'));
    expect(planned.map((r) => [r.id, r.dueAt.toISOString(), r.eventRevision])).toEqual([
      ['e1:2026-03-30T07:00:00.000Z:1440', '2026-03-29T07:00:00.000Z', 2], // 24 real hours, across the Berlin DST change
      ['e1:2026-03-30T07:00:00.000Z:15', '2026-03-30T06:45:00.000Z', 2],
      ['e1:2026-04-06T07:00:00.000Z:1440', '2026-04-05T07:00:00.000Z', 2],
      ['e1:2026-04-06T07:00:00.000Z:15', '2026-04-06T06:45:00.000Z', 2],
    ]);
  });

  it('skips reminders whose instant already passed', () => {
    const planned = planReminders(event, [new Date('2026-03-30T07:00:00Z')], new Date('2026-03-30T00:00:00Z'));
    expect(planned.map((r) => r.offsetMinutes)).toEqual([15]);
  });

  it('keeps the row id across revisions and changes the job key with the revision', () => {
    const at = new Date('2026-03-30T07:00:00Z');
    expect(reminderId('e1', at, 15)).toBe('e1:2026-03-30T07:00:00.000Z:15');
    expect(reminderJobKey({ id: reminderId('e1', at, 15), eventRevision: 1 })).not.toBe(reminderJobKey({ id: reminderId('e1', at, 15), eventRevision: 2 }));
  });
});
