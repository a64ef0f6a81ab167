import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { consumerDeclaration,
  jobConsumerDeclarations, CONSUMERS, provision, STREAM_DECLARATIONS } from '../../../libs/common/src/index.js';
import { instantToLocalDateTime } from '../../../libs/common/src/time/index.js';
import { NotifierModule } from '../../../apps/notifier/src/notifier.module.js';
import { startServiceApp } from '../../support/service-app.js';
import { waitFor } from '../../support/wait.js';
import { RecurrenceHarness } from './harness.js';

interface Reminder { id: string; state: string; dueAt: string; plan: number; offsetText: string }
interface Instance { id: string; template_id: string; due_at: Date; status: string }

/** Recurrence and the notifier on one nats-server and database, on the real clock: reminders wait for their instant. */
describe('task reminders before the due time (real clock)', () => {
  const h = new RecurrenceHarness();
  let notifier: INestApplication;

  beforeAll(async () => {
    await h.start();
    await provision(h.jsm, STREAM_DECLARATIONS, [consumerDeclaration(CONSUMERS.notifierEvents), ...jobConsumerDeclarations('notifier')], { replicas: 1, ackWaitMs: 30_000 });
    ({ app: notifier } = await startServiceApp(Test.createTestingModule({ imports: [NotifierModule] })));
    await h.tenant('acme', 'UTC');
    await h.member('acme', 'ana', ['inspector']);
    await waitFor(async () => (await h.database.query(`SELECT 1 FROM notifier_members WHERE company_id = 'acme' AND user_id = 'ana'`)).length === 1, { what: 'ana in the notifier' });
  }, 60_000);
  afterAll(async () => {
    await notifier?.close();
    await h.stop();
  });

  /** A one-off task for ana whose PT1M reminder is due in `ms` (and whose P1D reminder has already passed). */
  const taskRemindedIn = async (title: string, ms: number) => {
    const due = new Date(Math.ceil((Date.now() + 60_000 + ms) / 1000) * 1000);
    const res = await h.api<{ id: string; reminderOffsets: string[] }>('POST', '/task-templates', 'acme', {
      title,
      rule: 'FREQ=DAILY;COUNT=1',
      startLocal: instantToLocalDateTime(due, 'UTC').slice(0, 19),
      assignment: 'fixed',
      assigneeUserId: 'ana',
      reminderOffsets: ['PT1M', 'P1D'],
    });
    expect(res.status).toBe(201);
    const mine = ((await h.instances('acme')) as unknown as Instance[]).filter((i) => i.template_id === res.body.id);
    expect(mine).toHaveLength(1);
    return { template: res.body, task: mine[0], due };
  };
  const reminders = async (taskId: string) => (await h.api<Reminder[]>('GET', `/task-instances/${taskId}/reminders`, 'acme')).body;
  const sent = () => h.stored('events.acme.task.reminder_due');
  const notified = () => h.database.query<{ title: string; source_event_id: string }>(`SELECT title, source_event_id FROM notifications WHERE company_id = 'acme' AND user_id = 'ana' AND type = 'task.reminder_due' ORDER BY created_at`);
  const reminderRuns = (reminderId: string) =>
    h.database.query<{ state: string; result: { recordsProcessed: number } | null }>(`SELECT state, result FROM job_runs WHERE job = 'recurrence.task-reminder' AND payload->>'reminderId' = $1 ORDER BY created_at`, [reminderId]);

  it('tells the assignee once, at the offset before the task is due', async () => {
    const { template, task, due } = await taskRemindedIn('Fire drill', 3_000);
    expect(template.reminderOffsets).toEqual(['P1D', 'PT1M']);
    const [reminder, ...others] = await reminders(task.id);
    expect(others).toEqual([]); // P1D before was already past
    expect(reminder).toMatchObject({ state: 'planned', offsetText: 'PT1M', plan: 1, dueAt: new Date(due.getTime() - 60_000).toISOString() });
    expect(await sent()).toBe(0);

    await waitFor(async () => (await notified()).length === 1, { what: 'a task.reminder_due notification for ana' });
    expect((await notified())[0].title).toBe('Reminder: Fire drill');
    expect(await sent()).toBe(1);
    expect((await reminders(task.id))[0].state).toBe('sent');

    // The same job again (a redelivery, a second worker) sends nothing more.
    const again = await h.runJob('recurrence.task-reminder', 'acme', { reminderId: reminder.id, plan: 1 });
    expect(again.recordsProcessed).toBe(0);
    expect(await sent()).toBe(1);
    expect(await notified()).toHaveLength(1);
  });

  it('sends nothing for a task completed before its reminder, and nothing at the old time for a task that moved', async () => {
    const done = await taskRemindedIn('Done early', 2_000);
    expect((await h.api('PATCH', `/task-instances/${done.task.id}`, 'acme', { status: 'done' })).status).toBe(200);
    expect((await reminders(done.task.id)).map((r) => r.state)).toEqual(['cancelled']);

    const moved = await taskRemindedIn('Moved', 2_000);
    const [oldReminder] = await reminders(moved.task.id);
    const change = await h.api('PUT', `/task-templates/${moved.template.id}`, 'acme', {
      title: 'Moved', rule: 'FREQ=DAILY;COUNT=1', startLocal: instantToLocalDateTime(moved.due, 'UTC').slice(0, 19),
      assignment: 'fixed', assigneeUserId: 'ana', reminderOffsets: ['PT1M'], dueOffsetMinutes: 120,
    });
    expect(change.status).toBe(200);
    const [replacement] = ((await h.instances('acme')) as unknown as Instance[]).filter((i) => i.template_id === moved.template.id);
    expect(replacement.due_at.getTime()).toBe(moved.due.getTime() + 120 * 60_000);
    expect(await reminders(replacement.id)).toEqual([expect.objectContaining({ state: 'planned', dueAt: new Date(replacement.due_at.getTime() - 60_000).toISOString() })]);

    // Both old jobs run at their instant and find nothing to send.
    for (const id of [(await reminders(done.task.id))[0].id, oldReminder.id]) {
      await waitFor(async () => (await reminderRuns(id))[0]?.state === 'succeeded', { what: `the run of ${id}` });
      expect((await reminderRuns(id))[0].result?.recordsProcessed).toBe(0);
    }
    expect(await sent()).toBe(1);
    expect(await notified()).toHaveLength(1);
  });

  it('plans a reopened task\'s reminder again and sends it once', async () => {
    const { task } = await taskRemindedIn('Reopened', 3_000);
    await h.api('PATCH', `/task-instances/${task.id}`, 'acme', { status: 'done' });
    await h.api('PATCH', `/task-instances/${task.id}`, 'acme', { status: 'open' });
    expect((await reminders(task.id)).map((r) => [r.state, r.plan])).toEqual([['planned', 2]]);
    await waitFor(async () => (await notified()).length === 2, { what: 'the reopened task\'s reminder' });
    expect((await notified())[1].title).toBe('Reminder: Reopened');
    const [run1, run2] = await waitFor(async () => {
      const runs = await reminderRuns((await reminders(task.id))[0].id);
      return runs.length === 2 && runs.every((r) => r.state === 'succeeded') && runs;
    }, { what: 'both plans\' runs settled' }) as Awaited<ReturnType<typeof reminderRuns>>;
    expect([run1.result?.recordsProcessed, run2.result?.recordsProcessed]).toEqual([0, 1]);
    expect(await sent()).toBe(2);
  });
});
