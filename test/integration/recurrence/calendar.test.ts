import { instantToLocalDateTime } from '../../../libs/common/src/time/index.js';
import { MetronomeMetrics } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { RecurrenceHarness } from './harness.js';

interface CalendarEvent { id: string; revision: number }
interface Reminder { id: string; state: string; dueAt: string }

describe('calendar reminders through one-off jobs (real clock)', () => {
  const h = new RecurrenceHarness();
  beforeAll(async () => {
    await h.start();
    await h.tenant('acme', 'Europe/Berlin');
  }, 60_000);
  afterAll(() => h.stop());

  /** A one-time event whose single reminder (offset 1 minute) is due in `ms`. */
  const eventWithReminderIn = async (companyId: string, title: string, ms: number) => {
    const startsAt = new Date(Math.ceil((Date.now() + 60_000 + ms) / 1000) * 1000);
    const res = await h.api<CalendarEvent>('POST', '/calendar-events', companyId, {
      title,
      startLocal: instantToLocalDateTime(startsAt, 'Europe/Berlin').slice(0, 19),
      attendeeUserIds: ['ana', 'ben'],
      reminderOffsetsMinutes: [1],
    });
    expect(res.status).toBe(201);
    return { event: res.body, dueAt: new Date(startsAt.getTime() - 60_000) };
  };
  const remindersSent = (companyId: string) => h.stored(`events.${companyId}.calendar.reminder_due`);

  it('fires a reminder at its instant and records its lateness', async () => {
    const { event, dueAt } = await eventWithReminderIn('acme', 'Safety briefing', 3_000);
    const [reminder] = (await h.api<{ items: Reminder[] }>('GET', `/calendar-events/${event.id}/reminders`, 'acme')).body.items;
    expect(new Date(reminder.dueAt).getTime()).toBe(dueAt.getTime());
    expect(await remindersSent('acme')).toBe(0);

    await waitFor(async () => (await remindersSent('acme')) === 1, { timeoutMs: 20_000, what: 'calendar.reminder_due' });
    // The run's outcome is committed (batched) after the handler's effect and before the ack: wait for it.
    const [run] = (await waitFor(async () => {
      const rows = await h.database.query<{ state: string; scheduled_for: Date; started_at: Date; result: { recordsProcessed: number } }>(
        "SELECT state, scheduled_for, started_at, result FROM job_runs WHERE job = 'recurrence.reminder'",
      );
      // The planned row says queued until the attempt's outcome is written.
      return rows.length === 1 && ['succeeded', 'failed', 'dead', 'cancelled'].includes(rows[0].state) ? rows : null;
    }, { what: 'the reminder run settled' }))!;
    expect(run.state).toBe('succeeded');
    expect(run.scheduled_for.getTime()).toBe(dueAt.getTime()); // planned for the exact instant
    expect(run.result.recordsProcessed).toBe(1);
    // The lateness was recorded (an observation exists); no bound on it, machines under load differ.
    const lateness = await h.app.get(MetronomeMetrics).jobLateness.get();
    const started = lateness.values.find((v) => v.labels.job === 'recurrence.reminder' && v.labels.stage === 'started' && v.metricName?.endsWith('_count'));
    expect(started?.value).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(text).toMatch(/metronome_job_lateness_seconds_count\{[^}]*job="recurrence.reminder"[^}]*\} [1-9]/);
    process.stdout.write(`reminder lateness: ${run.started_at.getTime() - dueAt.getTime()} ms from due to handler start\n`);
  });

  it('sends nothing for a deleted event', async () => {
    const before = await remindersSent('acme');
    const { event } = await eventWithReminderIn('acme', 'Cancelled meeting', 2_000);
    expect((await h.api('DELETE', `/calendar-events/${event.id}`, 'acme')).status).toBe(204);
    await waitFor(async () => {
      const rows = await h.database.query<{ state: string; result: { recordsProcessed: number } }>(
        "SELECT state, result FROM job_runs WHERE job = 'recurrence.reminder' AND payload->>'reminderId' LIKE $1", [`${event.id}%`],
      );
      return rows[0]?.state === 'succeeded' && rows[0].result.recordsProcessed === 0;
    }, { timeoutMs: 20_000, what: 'the reminder job to run and send nothing' });
    await sleep(500);
    expect(await remindersSent('acme')).toBe(before);
    const reminders = await h.database.query<{ state: string }>('SELECT state FROM calendar_reminders WHERE event_id = $1', [event.id]);
    expect(reminders.map((r) => r.state)).toEqual(['cancelled']);
  });

  it('moving an event moves its reminder: the old instant sends nothing, the new one sends once', async () => {
    const before = await remindersSent('acme');
    const { event } = await eventWithReminderIn('acme', 'Moved meeting', 2_000);
    const later = new Date(Math.ceil((Date.now() + 60_000 + 3_000) / 1000) * 1000);
    const moved = await h.api<CalendarEvent>('PUT', `/calendar-events/${event.id}`, 'acme', {
      title: 'Moved meeting', startLocal: instantToLocalDateTime(later, 'Europe/Berlin').slice(0, 19), attendeeUserIds: ['ana'], reminderOffsetsMinutes: [1],
    });
    expect(moved.status).toBe(200);
    expect(moved.body.revision).toBe(2);
    await waitFor(async () => (await remindersSent('acme')) === before + 1, { timeoutMs: 20_000, what: 'the moved reminder' });
    await sleep(1_000);
    expect(await remindersSent('acme')).toBe(before + 1);
    const states = await h.database.query<{ state: string; due_at: Date }>('SELECT state, due_at FROM calendar_reminders WHERE event_id = $1 ORDER BY due_at', [event.id]);
    expect(states.map((s) => s.state)).toEqual(['cancelled', 'sent']);
  });

  it('a recurring event gets reminders per occurrence and offset; the generate job re-plans nothing twice', async () => {
    const start = new Date(Date.now() + 3 * 24 * 3600_000);
    const res = await h.api<CalendarEvent>('POST', '/calendar-events', 'acme', {
      title: 'Stand-up', rule: 'FREQ=DAILY;COUNT=3', startLocal: `${instantToLocalDateTime(start, 'Europe/Berlin').slice(0, 10)}T09:00`,
      attendeeUserIds: ['ana'], reminderOffsetsMinutes: [1440, 15],
    });
    expect(res.status).toBe(201);
    const reminders = async () => (await h.api<{ items: Reminder[] }>('GET', `/calendar-events/${res.body.id}/reminders`, 'acme')).body.items;
    const planned = await reminders();
    expect(planned).toHaveLength(6);
    expect(planned.every((r) => r.state === 'planned')).toBe(true);
    const jobs = async () => (await h.database.query("SELECT 1 FROM job_runs WHERE job = 'recurrence.reminder' AND payload->>'reminderId' LIKE $1", [`${res.body.id}%`])).length;
    expect(await jobs()).toBe(6);
    await h.generate('acme');
    await h.generate('acme');
    expect(await reminders()).toEqual(planned);
    expect(await jobs()).toBe(6);
    // A bad rule is refused like a template's.
    const bad = await h.api<{ status: number }>('POST', '/calendar-events', 'acme', { title: 'x', rule: 'FREQ=DAILY;BYDAY=XX', startLocal: '2027-01-01T09:00' });
    expect(bad.status).toBe(422);
  });

  it('cleanup removes deleted events and old reminders after the tenant setting', async () => {
    await h.api('PUT', '/recurrence-settings', 'initech', { cleanupAfterDays: 30 });
    const { event } = await eventWithReminderIn('initech', 'Old', 60_000);
    expect((await h.api('DELETE', `/calendar-events/${event.id}`, 'initech')).status).toBe(204);
    const keep = await eventWithReminderIn('initech', 'Current', 60_000);
    expect((await h.runJob('recurrence.cleanup', 'initech')).recordsProcessed).toBe(0); // deleted just now: kept for 30 days
    await h.database.query("UPDATE calendar_events SET deleted_at = now() - interval '31 days' WHERE id = $1", [event.id]);
    expect((await h.runJob('recurrence.cleanup', 'initech')).recordsProcessed).toBe(2); // the event and its cancelled reminder
    expect(await h.database.query('SELECT 1 FROM calendar_events WHERE id = $1', [event.id])).toEqual([]);
    expect((await h.api<{ items: CalendarEvent[] }>('GET', '/calendar-events', 'initech')).body.items.map((e) => e.id)).toEqual([keep.event.id]);
  });

  it("keeps one tenant's events and reminders from another", async () => {
    const { event } = await eventWithReminderIn('acme', 'Acme only', 30_000);
    expect((await h.api<{ items: Reminder[] }>('GET', `/calendar-events/${event.id}/reminders`, 'globex')).body.items).toEqual([]);
    expect((await h.api('DELETE', `/calendar-events/${event.id}`, 'globex')).status).toBe(404);
    expect((await h.api<{ items: CalendarEvent[] }>('GET', '/calendar-events', 'globex')).body.items).toEqual([]);
  });
});
