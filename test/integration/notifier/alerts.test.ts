import { jetstream } from '@nats-io/jetstream';
import { createCloudEvent, encodeCloudEvent, EVENT_TYPES, JOB_NAMES, PLATFORM_TENANT, subjects } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { NotifierHarness } from './harness.js';
import { TestBrowser, TestPushService, vapidKeys } from './push-service.js';

const WINDOW_MS = 6_000;

/**
 * Failures reach people: real dead letters (a notifier job refused by a webhook,
 * a run without a tenant) publish job.dead, and the notifier tells the tenant's
 * admins (the system admins for the platform) in-app, by email and by push, once
 * per job and window; SLA breaches and timeouts likewise.
 */
describe('notifier: job alerts', () => {
  const keys = vapidKeys();
  const h = new NotifierHarness();
  const push = new TestPushService(keys.publicKey, 'mailto:ops@metronome.test');
  const bossBrowser = new TestBrowser('');
  const opsBrowser = new TestBrowser('');

  beforeAll(async () => {
    await push.start();
    Object.assign(bossBrowser, { endpoint: push.endpoint('boss') });
    Object.assign(opsBrowser, { endpoint: push.endpoint('ops') });
    await h.start({
      NOTIFIER_ALERT_WINDOW_MS: String(WINDOW_MS),
      NOTIFIER_SYSTEM_ADMINS: 'ops-1=ops1@metronome.test',
      PUSH_VAPID_PUBLIC_KEY: keys.publicKey,
      PUSH_VAPID_PRIVATE_KEY: keys.privateKey,
      PUSH_VAPID_SUBJECT: 'mailto:ops@metronome.test',
    });
    await h.member('acme', { userId: 'boss', roles: ['tenant-admin'], email: 'boss@acme.test' });
    await h.member('acme', { userId: 'worker', roles: ['safety'], email: 'worker@acme.test' });
    await h.member('acme', { userId: 'sysadmin-in-tenant', roles: ['system-admin'], email: 'sys@acme.test' });
    await h.member('globex', { userId: 'gboss', roles: ['tenant-admin'], email: 'gboss@globex.test' });
    expect((await h.http('POST', '/api/v1/push/subscriptions', { companyId: 'acme', userId: 'boss', body: bossBrowser.subscription() })).status).toBe(201);
    expect((await h.http('POST', '/api/v1/push/subscriptions', { companyId: PLATFORM_TENANT, userId: 'ops-1', body: opsBrowser.subscription() })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await h.stop();
    await push.stop();
  }, 60_000);

  const inbox = async (companyId: string, userId: string) =>
    (await h.http('GET', '/api/v1/notifications?limit=200', { companyId, userId })).body.items as { type: string; title: string; body: string; data: Record<string, unknown>; critical: boolean }[];

  it('a job dead-lettered in a tenant tells that tenant\'s admins in-app, by email and by push, and nobody else', async () => {
    // A tenant webhook that refuses (400) makes the notifier's own webhook delivery run dead: a real dead letter.
    expect((await h.http('PUT', '/api/v1/webhooks', { companyId: 'acme', body: { url: h.receiver.url, secret: 'a-secret-of-16-chars' } })).status).toBe(200);
    h.receiver.script = [400];
    await h.event(EVENT_TYPES.taskAssigned, 'acme', { taskId: 't-1', title: 'Inspect ladder', assigneeUserId: 'worker' }, 'evt-alert-1');
    const dead = await waitFor(async () => (await h.database.query<{ id: string; company_id: string; reason: string; message_type: string }>(
      `SELECT id, company_id, reason, message_type FROM dead_letters WHERE message_type = $1`, [JOB_NAMES.notifierDeliver])).at(0), { what: 'the delivery dead-lettered' });
    expect(dead).toMatchObject({ company_id: 'acme', reason: 'permanent_error' });

    const alert = (await waitFor(async () => (await inbox('acme', 'boss')).find((n) => n.type === EVENT_TYPES.jobDead), { what: 'in-app alert' }))!;
    expect(alert).toMatchObject({ title: 'Job failed: notifier.deliver', critical: true, data: expect.objectContaining({ runId: dead!.id, reason: 'permanent_error', kind: 'job', deadLetterId: dead!.id, folded: 0 }) });
    expect(alert.body).toContain('webhook answered 400');
    await waitFor(() => h.smtp.to('boss@acme.test').some((m) => m.subject === 'Job failed: notifier.deliver'), { what: 'alert email' });
    await waitFor(() => push.to('boss').length === 1, { what: 'alert push' });
    expect(JSON.parse(bossBrowser.decrypt(push.to('boss')[0].body))).toMatchObject({ type: 'job.dead', title: 'Job failed: notifier.deliver', critical: true });

    await h.settle();
    expect((await inbox('acme', 'worker')).map((n) => n.type)).toEqual(['task.assigned']);
    expect(await inbox('acme', 'sysadmin-in-tenant')).toEqual([]);
    expect(await inbox('globex', 'gboss')).toEqual([]);
    expect(await inbox(PLATFORM_TENANT, 'ops-1')).toEqual([]);
  }, 60_000);

  it('a run without a tenant tells the configured system admins, in the platform scope', async () => {
    // notifier.deliver runs per tenant: one published without a companyId is refused for good.
    const runId = 'platform-run-1';
    const event = createCloudEvent({ type: JOB_NAMES.notifierDeliver, source: 'test', id: runId, data: { channel: 'email', notificationId: 'n-x' } });
    await jetstream(h.nc).publish(subjects.job('normal', JOB_NAMES.notifierDeliver), encodeCloudEvent(event), { msgID: runId });
    const alert = (await waitFor(async () => (await inbox(PLATFORM_TENANT, 'ops-1')).find((n) => n.data.runId === runId), { what: 'platform alert' }))!;
    expect(alert).toMatchObject({ type: 'job.dead', title: 'Job failed: notifier.deliver', critical: true });
    expect(alert.body).toContain('the run carries no companyId');
    await waitFor(() => h.smtp.to('ops1@metronome.test').length === 1, { what: 'platform alert email' });
    await waitFor(() => push.to('ops').length === 1, { what: 'platform alert push' });
    expect(JSON.parse(opsBrowser.decrypt(push.to('ops')[0].body))).toMatchObject({ type: 'job.dead', title: 'Job failed: notifier.deliver' });
    // No tenant hears about it.
    expect((await inbox('acme', 'boss')).filter((n) => n.data.runId === runId)).toEqual([]);
  }, 60_000);

  it('tells at most once per job and window, and sums up what it folded when the window ends', async () => {
    await h.member('rl', { userId: 'admin', roles: ['tenant-admin'] });
    await h.member('rl2', { userId: 'admin', roles: ['tenant-admin'] });
    const dead = (companyId: string, job: string, i: number) =>
      h.event(EVENT_TYPES.jobDead, companyId, { runId: `${job}-run-${i}`, job, error: `failure ${i}`, kind: 'job', reason: 'attempts_exhausted', attempts: 5 }, `dead-${companyId}-${job}-${i}`);
    await Promise.all([1, 2, 3, 4, 5].map((i) => dead('rl', 'documents.expiry-scan', i)));
    await dead('rl', 'recurrence.generate', 1);
    await dead('rl2', 'documents.expiry-scan', 1);
    await h.settle();
    const scan = async (companyId: string) => (await inbox(companyId, 'admin')).filter((n) => n.data.job === 'documents.expiry-scan');
    expect(await scan('rl')).toHaveLength(1);
    expect((await scan('rl'))[0]).toMatchObject({ title: 'Job failed: documents.expiry-scan', data: expect.objectContaining({ folded: 0 }) });
    // Another job, and another tenant, have windows of their own.
    expect((await inbox('rl', 'admin')).filter((n) => n.data.job === 'recurrence.generate')).toHaveLength(1);
    expect(await scan('rl2')).toHaveLength(1);

    // When the window ends, the four folded failures are told in one summary (the last one's error).
    const summary = (await waitFor(async () => (await scan('rl')).find((n) => n.data.summary === true), { what: 'summary', timeoutMs: WINDOW_MS + 15_000 }))!;
    expect(summary.title).toBe('Job failed again: documents.expiry-scan (4 more)');
    expect(summary.data).toMatchObject({ folded: 4, summary: true });
    expect(summary.body).toContain('4 more run(s) of documents.expiry-scan were dead-lettered since the last alert');
    // Windows with nothing folded end without a summary.
    await sleep(WINDOW_MS + 1_000);
    expect(await scan('rl2')).toHaveLength(1);
    expect((await inbox('rl', 'admin')).filter((n) => n.data.job === 'recurrence.generate')).toHaveLength(1);
    expect(await scan('rl')).toHaveLength(2);
    // The summary opened a window of its own; once it is over, the next failure is told at once.
    await dead('rl', 'documents.expiry-scan', 6);
    await waitFor(async () => (await scan('rl')).length === 3, { what: 'a new alert after the windows' });
    expect((await scan('rl'))[0]).toMatchObject({ title: 'Job failed: documents.expiry-scan', data: expect.objectContaining({ runId: 'documents.expiry-scan-run-6', folded: 0 }) });
    // A redelivered alert event changes nothing.
    await h.republish(EVENT_TYPES.jobDead, 'rl', { runId: 'documents.expiry-scan-run-6', job: 'documents.expiry-scan' }, 'dead-rl-documents.expiry-scan-6');
    await h.settle();
    await sleep(WINDOW_MS + 1_000);
    expect(await scan('rl')).toHaveLength(3);
  }, 90_000);

  it('SLA breaches and timeouts become notifications for the tenant\'s admins, or the platform\'s', async () => {
    await h.event(EVENT_TYPES.jobSlaBreached, 'acme', { runId: 'sla-1', job: 'documents.expiry-scan', companyId: 'acme', kind: 'duration', limitMs: 60_000, observedMs: 95_000, breachedAt: new Date().toISOString() }, 'sla-duration-sla-1');
    await h.event(EVENT_TYPES.jobTimedOut, 'acme', { runId: 'to-1', job: 'recurrence.generate', companyId: 'acme', attempt: 2, maxAttempts: 5, timeoutMs: 300_000, final: false, timedOutAt: new Date().toISOString() }, 'timeout-to-1-2');
    await h.event(EVENT_TYPES.jobTimedOut, PLATFORM_TENANT, { runId: 'to-2', job: 'scheduler.retention', attempt: 3, maxAttempts: 3, timeoutMs: 600_000, final: true, timedOutAt: new Date().toISOString() }, 'timeout-to-2-3');
    const sla = (await waitFor(async () => (await inbox('acme', 'boss')).find((n) => n.type === 'job.sla_breached'), { what: 'SLA alert' }))!;
    expect(sla).toMatchObject({ title: 'SLA breached: documents.expiry-scan', critical: false });
    expect(sla.body).toBe('Run sla-1 of documents.expiry-scan breached its duration SLA: 95 s against a limit of 60 s.');
    const timeout = (await waitFor(async () => (await inbox('acme', 'boss')).find((n) => n.type === 'job.timed_out'), { what: 'timeout alert' }))!;
    expect(timeout.title).toBe('Job timed out: recurrence.generate');
    expect(timeout.body).toBe('Attempt 2 of 5 of run to-1 (recurrence.generate) ran past its 300 s timeout and was aborted; it is retried.');
    const platform = (await waitFor(async () => (await inbox(PLATFORM_TENANT, 'ops-1')).find((n) => n.type === 'job.timed_out'), { what: 'platform timeout alert' }))!;
    expect(platform.body).toContain('it was the last attempt');
    expect((await inbox('globex', 'gboss'))).toEqual([]);
    // A payload naming another tenant than the scope it came in is refused.
    await h.event(EVENT_TYPES.jobSlaBreached, 'acme', { runId: 'sla-2', job: 'x', companyId: 'globex', kind: 'lateness', limitMs: 1, observedMs: 2, breachedAt: new Date().toISOString() }, 'sla-lateness-sla-2');
    await waitFor(async () => (await h.database.query(`SELECT 1 FROM dead_letters WHERE id = 'sla-lateness-sla-2'`)).length === 1, { what: 'mismatch dead-lettered' });
  }, 60_000);

  it('accepts the platform scope only for Metronome\'s job alerts, and does not alert about a dead alert', async () => {
    const raw = (type: string, source: string, id: string, data: Record<string, unknown>) =>
      jetstream(h.nc).publish(subjects.event(PLATFORM_TENANT, type), encodeCloudEvent(createCloudEvent({ type, source, data, companyId: PLATFORM_TENANT, id })), { msgID: id });
    await raw(EVENT_TYPES.jobDead, 'crm-sync', 'forged-1', { runId: 'r', job: 'forged.job' });
    await raw(EVENT_TYPES.notificationRequested, 'metronome/scheduler', 'forged-2', { title: 'Hello admins', roles: ['system-admin'] });
    await h.settle();
    const letters = await h.database.query<{ id: string; reason: string }>(`SELECT id, reason FROM dead_letters WHERE id IN ('forged-1', 'forged-2') ORDER BY id`);
    expect(letters).toEqual([{ id: 'forged-1', reason: 'tenant_mismatch' }, { id: 'forged-2', reason: 'tenant_mismatch' }]);
    await sleep(1_000);
    await h.settle();
    const platform = await inbox(PLATFORM_TENANT, 'ops-1');
    expect(platform.filter((n) => n.data.job === 'forged.job' || n.title === 'Hello admins')).toEqual([]);
    // forged-2 (not an alert) is itself reported to the platform; forged-1 (a job.dead) is not alerted about again.
    await waitFor(async () => (await inbox(PLATFORM_TENANT, 'ops-1')).some((n) => n.data.runId === 'forged-2'), { what: 'the refused event reported' });
    expect((await inbox(PLATFORM_TENANT, 'ops-1')).some((n) => n.data.runId === 'forged-1')).toBe(false);
  }, 60_000);
});
