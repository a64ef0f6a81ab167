import { EVENT_TYPES, JOB_NAMES } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { NotifierHarness } from './harness.js';

/** Quiet hours around "now" in the member's timezone: starts an hour ago, ends in two. */
function quietNow(timezone: string): { start: string; end: string } {
  const hm = (offsetMin: number) => {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(Date.now() + offsetMin * 60_000));
    return `${parts.find((p) => p.type === 'hour')!.value}:${parts.find((p) => p.type === 'minute')!.value}`;
  };
  return { start: hm(-60), end: hm(120) };
}

/** Opt-outs, quiet hours (deferred, never dropped; critical goes through), SMTP retries and digests. */
describe('notifier: preferences, quiet hours, retries, digests', () => {
  const h = new NotifierHarness();
  beforeAll(async () => {
    // The digest test sends a fixed `period` (a time override, honoured only when tests allow it).
    process.env.ALLOW_TIME_OVERRIDES = 'true';
    await h.start();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  it('defers a non-critical email during quiet hours and delivers it once they end; critical mail goes through', async () => {
    const tz = 'Asia/Tokyo';
    await h.member('quiet', { userId: 'night', roles: ['safety'], email: 'night@quiet.test', timezone: tz, quietHours: quietNow(tz) });
    await h.event(EVENT_TYPES.taskAssigned, 'quiet', { taskId: 't-q', title: 'Night task', assigneeUserId: 'night' }, 'evt-quiet-1');
    await h.event(EVENT_TYPES.documentExpired, 'quiet', { id: 'd-q', companyId: 'quiet', title: 'Urgent cert', responsibleRole: 'safety', expiresAt: '2030-01-01T00:00:00Z' }, 'evt-quiet-critical');
    await waitFor(() => h.smtp.to('night@quiet.test').some((m) => m.subject.includes('Urgent cert')), { what: 'critical mail' });
    await waitFor(async () => (await h.deliveries('quiet')).filter((d) => d.outcome === 'deferred').length >= 2, { what: 'deferred twice (re-checked)', timeoutMs: 10_000 });
    expect(h.smtp.to('night@quiet.test').some((m) => m.subject.includes('Night task'))).toBe(false);
    // In-app is immediate.
    expect((await h.notifications('quiet', 'night')).map((n) => n.source_event_id).sort()).toEqual(['evt-quiet-1', 'evt-quiet-critical']);

    // The member's quiet hours end (changed to a window that does not cover now): the deferred mail arrives.
    await h.member('quiet', { userId: 'night', roles: ['safety'], email: 'night@quiet.test', timezone: tz, quietHours: { start: '00:00', end: '00:00' } });
    await waitFor(() => h.smtp.to('night@quiet.test').some((m) => m.subject.includes('Night task')), { what: 'deferred mail delivered', timeoutMs: 15_000 });
    // The run was deferred, not failed: it ends succeeded.
    const notificationId = (await h.notifications('quiet', 'night')).find((n) => n.source_event_id === 'evt-quiet-1')!.id;
    await waitFor(async () => {
      const runs = await h.database.query<{ state: string }>(`SELECT state FROM job_runs WHERE job = $1 AND payload::text LIKE '%' || $2 || '%'`, [JOB_NAMES.notifierDeliver, notificationId]);
      return runs.length === 1 && runs[0].state === 'succeeded';
    }, { what: 'deferred run succeeded' });
  }, 40_000);

  it('honours opt-outs per type and channel, email and in-app', async () => {
    await h.member('prefs', { userId: 'picky', roles: ['safety'], email: 'picky@prefs.test', preferences: { optOut: [{ type: 'task.assigned', channel: 'email' }, { type: 'notification.requested', channel: 'in_app' }] } });
    await h.event(EVENT_TYPES.taskAssigned, 'prefs', { taskId: 't-p', title: 'Muted task', assigneeUserId: 'picky' }, 'evt-pref-1');
    await h.event(EVENT_TYPES.notificationRequested, 'prefs', { title: 'Loud request', userIds: ['picky'] }, 'evt-pref-2');
    await waitFor(() => h.smtp.to('picky@prefs.test').some((m) => m.subject === 'Loud request'), { what: 'not opted out mail' });
    await waitFor(async () => (await h.deliveries('prefs')).some((d) => d.outcome === 'skipped'), { what: 'skip recorded' });
    await sleep(500);
    expect(h.smtp.to('picky@prefs.test').map((m) => m.subject)).toEqual(['Loud request']);
    // Both rows exist (they anchor the deliveries), but the in-app opt-out hides the request from the API.
    expect((await h.notifications('prefs', 'picky'))).toHaveLength(2);
    const listed = await h.http('GET', '/api/v1/notifications', { companyId: 'prefs', userId: 'picky' });
    expect(listed.body.items.map((i: { type: string }) => i.type)).toEqual(['task.assigned']);
    expect((await h.http('GET', '/api/v1/notifications/unread-count', { companyId: 'prefs', userId: 'picky' })).body).toEqual({ unread: 1 });
  });

  it('retries when the SMTP server refuses the message, recording each attempt', async () => {
    await h.member('smtp', { userId: 'u', roles: ['x'], email: 'u@smtp.test' });
    h.smtp.failNext = 1;
    await h.event(EVENT_TYPES.notificationRequested, 'smtp', { title: 'Eventually', userIds: ['u'] }, 'evt-smtp-1');
    await waitFor(() => h.smtp.to('u@smtp.test').length === 1, { what: 'mail after retry', timeoutMs: 30_000 });
    const d = (await waitFor(async () => { const rows = await h.deliveries('smtp'); return rows.some((r) => r.outcome === 'sent') ? rows : null; }, { what: 'sent recorded' }))!;
    expect(d.map((x) => [x.outcome, x.attempt])).toEqual([['retry', 1], ['sent', 2]]);
  }, 40_000);

  it('emails tenant admins a digest counted from the tenant\'s notifications of the period', async () => {
    await h.member('digest', { userId: 'admin', roles: ['tenant-admin'], email: 'admin@digest.test' });
    await h.member('digest', { userId: 'worker', roles: ['safety'] });
    await h.member('otherco', { userId: 'admin', roles: ['tenant-admin', 'safety'], email: 'admin@other.test' });
    for (let i = 0; i < 3; i++) await h.event(EVENT_TYPES.taskAssigned, 'digest', { taskId: `t${i}`, title: `T${i}`, assigneeUserId: 'worker' }, `evt-dg-t${i}`);
    await h.event(EVENT_TYPES.documentExpiring, 'digest', { id: 'dd', companyId: 'digest', title: 'Doc', responsibleRole: 'safety', daysLeft: 3 }, 'evt-dg-d');
    await h.event(EVENT_TYPES.documentExpiring, 'otherco', { id: 'dd', companyId: 'otherco', title: 'Doc', responsibleRole: 'safety', daysLeft: 3 }, 'evt-dg-other');
    await h.settle();
    await waitFor(async () => (await h.notifications('digest')).length === 4 && (await h.notifications('otherco')).length === 1, { what: 'notifications' });
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    await h.publisher.publishJob(JOB_NAMES.notifierWeeklyDigest, { period: { from, to } }, { runId: 'digest-run-1', companyId: 'digest' });
    const mail = (await waitFor(() => h.smtp.to('admin@digest.test').find((m) => m.subject.startsWith('Weekly digest')), { what: 'digest mail' }))!;
    expect(mail.subject).toContain('digest');
    expect(mail.raw).toContain('Notifications in the period: 4 (unread: 4)');
    expect(mail.raw).toContain('task.assigned: 3');
    expect(mail.raw).toContain('document.expiring: 1');
    expect(h.smtp.to('admin@other.test').filter((m) => m.subject.startsWith('Weekly digest'))).toEqual([]);
    await h.publisher.publishJob(JOB_NAMES.notifierMonthlyReport, { period: { from, to } }, { runId: 'report-run-1', companyId: 'otherco' });
    const report = (await waitFor(() => h.smtp.to('admin@other.test').find((m) => m.subject.startsWith('Monthly compliance report')), { what: 'report mail' }))!;
    expect(report.raw).toContain('Notifications in the period: 1');
  });
});
