import { tenantAuth } from '../../support/auth.js';
import { EVENT_TYPES } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { NotifierHarness } from './harness.js';

/** Recipients by role inside the tenant, in-app notifications and their API, email through a real SMTP server, idempotency. */
describe('notifier: recipients, in-app and email', () => {
  const h = new NotifierHarness();
  beforeAll(async () => {
    await h.start();
    await h.member('acme', { userId: 'alice', roles: ['safety'], email: 'alice@acme.test', locale: 'en' });
    await h.member('acme', { userId: 'bernd', roles: ['safety', 'tenant-admin'], email: 'bernd@acme.test', locale: 'de-DE' });
    await h.member('acme', { userId: 'carol', roles: ['hr'], email: 'carol@acme.test' });
    await h.member('acme', { userId: 'root', roles: ['system-admin'], email: 'root@acme.test' });
    await h.member('globex', { userId: 'dave', roles: ['safety', 'system-admin'], email: 'dave@globex.test' });
    // The same user id in another tenant is another member.
    await h.member('globex', { userId: 'alice', roles: ['safety'], email: 'alice@globex.test' });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  it('tells the responsible role of the tenant, in-app and by email in the member\'s language, and nobody else', async () => {
    await h.event(EVENT_TYPES.documentExpiring, 'acme', { id: 'doc-1', companyId: 'acme', title: 'Forklift licence', responsibleRole: 'safety', expiresAt: '2030-01-31T00:00:00Z', daysLeft: 14, thresholdDays: 14 }, 'evt-expiring-1');
    await waitFor(() => h.smtp.to('alice@acme.test').length === 1 && h.smtp.to('bernd@acme.test').length === 1, { what: 'two emails' });
    const rows = await h.notifications('acme');
    expect(rows.map((r) => r.user_id)).toEqual(['alice', 'bernd']);
    expect(h.smtp.to('alice@acme.test')[0].subject).toBe('Document expiring: Forklift licence');
    expect(h.smtp.to('bernd@acme.test')[0].subject).toBe('Dokument läuft ab: Forklift licence');
    expect(h.smtp.to('alice@acme.test')[0].raw).toContain('From: Metronome <noreply@metronome.test>');
    expect(await h.notifications('globex')).toEqual([]);
    expect(h.smtp.mails.filter((m) => m.to.some((t) => t.endsWith('@globex.test')))).toEqual([]);
    await waitFor(async () => (await h.deliveries('acme')).filter((d) => d.outcome === 'sent').length === 2, { what: 'deliveries recorded' });
  });

  it('resolves escalations, assignments, reminders, requests and dead jobs (to the tenant\'s admins) to the right members', async () => {
    await h.event(EVENT_TYPES.documentEscalated, 'acme', { id: 'doc-1', companyId: 'acme', title: 'Forklift licence', level: 1, role: 'hr' }, 'evt-esc-1');
    await h.event(EVENT_TYPES.taskAssigned, 'acme', { taskId: 't-1', title: 'Inspect ladder', assigneeUserId: 'carol' }, 'evt-task-1');
    // A reminder naming a user of another tenant reaches only this tenant's attendees.
    await h.event(EVENT_TYPES.calendarReminderDue, 'acme', { eventId: 'c-1', title: 'Briefing', startsAt: '2030-01-01T09:00:00Z', attendeeUserIds: ['alice', 'dave'] }, 'evt-rem-1');
    await h.event(EVENT_TYPES.notificationRequested, 'acme', { title: 'Hello', body: 'Fire drill at noon', userIds: ['carol'], roles: ['system-admin'] }, 'evt-req-1');
    await h.event(EVENT_TYPES.taskStatusChanged, 'acme', { taskId: 't-1', status: 'done', assigneeUserId: 'carol', changedBy: 'alice' }, 'evt-status-1');
    // The assignee changing their own task is not told about it.
    await h.event(EVENT_TYPES.taskStatusChanged, 'acme', { taskId: 't-1', status: 'in_progress', assigneeUserId: 'carol', changedBy: 'carol' }, 'evt-status-2');
    await h.event(EVENT_TYPES.jobDead, 'acme', { runId: 'r-1', job: 'documents.expiry-scan', error: 'boom' }, 'evt-dead-1');
    await h.settle();
    const by = async (id: string) => (await h.database.query<{ user_id: string }>('SELECT user_id FROM notifications WHERE source_event_id = $1 ORDER BY user_id', [id])).map((r) => r.user_id);
    expect(await by('evt-esc-1')).toEqual(['carol']);
    expect(await by('evt-task-1')).toEqual(['carol']);
    expect(await by('evt-rem-1')).toEqual(['alice']);
    expect(await by('evt-req-1')).toEqual(['carol', 'root']);
    expect(await by('evt-dead-1')).toEqual(['bernd']);
    expect(await by('evt-status-1')).toEqual(['carol']);
    expect(await by('evt-status-2')).toEqual([]);
    const dead = await h.database.query<{ critical: boolean; company_id: string }>('SELECT critical, company_id FROM notifications WHERE source_event_id = $1', ['evt-dead-1']);
    expect(dead).toEqual([{ critical: true, company_id: 'acme' }]);
    await waitFor(() => h.smtp.to('root@acme.test').length === 1 && h.smtp.to('bernd@acme.test').some((m) => m.subject === 'Job fehlgeschlagen: documents.expiry-scan'), { what: 'request to root, dead job to the tenant admin' });
  });

  it('creates nothing twice when the same event comes again', async () => {
    const data = { taskId: 't-2', title: 'Check extinguishers', assigneeUserId: 'alice' };
    await h.event(EVENT_TYPES.taskAssigned, 'acme', data, 'evt-task-dup');
    await waitFor(() => h.smtp.mails.filter((m) => m.subject.includes('Check extinguishers')).length === 1, { what: 'first mail' });
    await h.republish(EVENT_TYPES.taskAssigned, 'acme', data, 'evt-task-dup');
    await h.republish(EVENT_TYPES.taskAssigned, 'acme', data, 'evt-task-dup');
    await h.settle();
    await sleep(1_000);
    expect((await h.notifications('acme', 'alice')).filter((n) => n.source_event_id === 'evt-task-dup')).toHaveLength(1);
    expect(h.smtp.mails.filter((m) => m.subject.includes('Check extinguishers'))).toHaveLength(1);
  });

  it('keeps the directory ordered and forgets removed members', async () => {
    await h.member('acme', { userId: 'temp', roles: ['night-shift'], email: 'temp@acme.test' });
    // An older upsert arriving late does not overwrite the newer one.
    await h.publisher.publishEvent(EVENT_TYPES.memberUpserted, 'acme', { companyId: 'acme', userId: 'temp', roles: ['other'], version: 0 });
    await h.settle();
    expect((await h.database.query<{ roles: string[] }>("SELECT roles FROM notifier_members WHERE company_id = 'acme' AND user_id = 'temp'"))[0].roles).toEqual(['night-shift']);
    await h.publisher.publishEvent(EVENT_TYPES.memberRemoved, 'acme', { companyId: 'acme', userId: 'temp', version: 10_000 });
    await h.settle();
    await h.event(EVENT_TYPES.notificationRequested, 'acme', { title: 'Night shift', roles: ['night-shift'], userIds: ['temp'] }, 'evt-removed-1');
    await h.settle();
    expect(await h.database.query('SELECT 1 FROM notifications WHERE source_event_id = $1', ['evt-removed-1'])).toEqual([]);
    // A payload naming another tenant than its subject is dead-lettered, not applied.
    await h.publisher.publishEvent(EVENT_TYPES.memberUpserted, 'acme', { companyId: 'globex', userId: 'intruder', roles: ['system-admin'], version: 1 });
    await h.settle();
    expect(await h.database.query("SELECT 1 FROM notifier_members WHERE user_id = 'intruder'")).toEqual([]);
  });

  it('lists the caller\'s own notifications, counts unread, marks read, and streams new ones', async () => {
    const list = await h.http('GET', '/api/v1/notifications', { companyId: 'acme', userId: 'alice' });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { sourceEventId: string }) => i.sourceEventId).sort()).toEqual(['evt-expiring-1', 'evt-rem-1', 'evt-task-dup']);
    expect((await h.http('GET', '/api/v1/notifications/unread-count', { companyId: 'acme', userId: 'alice' })).body).toEqual({ unread: 3 });
    // Another tenant's alice sees none of them.
    expect((await h.http('GET', '/api/v1/notifications', { companyId: 'globex', userId: 'alice' })).body.items).toEqual([]);
    // Marking someone else's notification does nothing.
    const carols = await h.http('GET', '/api/v1/notifications', { companyId: 'acme', userId: 'carol' });
    expect((await h.http('POST', `/api/v1/notifications/${carols.body.items[0].id}/read`, { companyId: 'acme', userId: 'alice' })).body.marked).toBe(0);
    const first = list.body.items[0].id as string;
    expect((await h.http('POST', `/api/v1/notifications/${first}/read`, { companyId: 'acme', userId: 'alice' })).body).toEqual({ id: first, marked: 1 });
    expect((await h.http('GET', '/api/v1/notifications/unread-count', { companyId: 'acme', userId: 'alice' })).body).toEqual({ unread: 2 });
    expect((await h.http('POST', '/api/v1/notifications/read', { companyId: 'acme', userId: 'alice', body: {} })).body).toEqual({ marked: 2 });
    expect((await h.http('GET', '/api/v1/notifications?unread=true', { companyId: 'acme', userId: 'alice' })).body.items).toEqual([]);
    const bad = await h.http('GET', '/api/v1/notifications?cursor=nope', { companyId: 'acme', userId: 'alice' });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect((await h.http('GET', '/api/v1/notifications')).status).toBe(401);

    const controller = new AbortController();
    const res = await fetch(`${h.baseUrl}/api/v1/notifications/stream`, { headers: await tenantAuth('acme', 'alice'), signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const received = (async () => {
      while (!text.includes('Stream me')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    })();
    await sleep(200);
    await h.event(EVENT_TYPES.notificationRequested, 'acme', { title: 'Stream me', userIds: ['alice'] }, 'evt-stream-1');
    await h.event(EVENT_TYPES.notificationRequested, 'globex', { title: 'Not for acme', userIds: ['alice'] }, 'evt-stream-2');
    await Promise.race([received, sleep(10_000)]);
    await reader.cancel().catch(() => undefined);
    controller.abort();
    expect(text).toContain('event: notification');
    expect(text).toContain('Stream me');
    expect(text).not.toContain('Not for acme');
  });
});
