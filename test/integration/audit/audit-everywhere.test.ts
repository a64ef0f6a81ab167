import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { FourServices } from '../../faults/security/services.js';
import { seed } from '../control-plane/support.js';
import { bearer } from '../control-plane/support.js';
import { testToken } from '../../support/auth.js';
import { announce, productionDeclarations } from '../../support/job-declarations.js';
import { waitFor } from '../../support/wait.js';
import { vapidKeys } from '../notifier/push-service.js';
import { auditSince, call, declaredMutations, lastAuditId, type AuditRow } from './support.js';

/**
 * Issue 22, "audit everywhere": every POST/PUT/PATCH/DELETE route of the four services, called as a client
 * would, leaves exactly one audit entry (the action its route declares, the actor from the verified token,
 * the tenant, before and after, secrets redacted); the entry commits with the change or not at all; the
 * table refuses UPDATE, DELETE and TRUNCATE outside the retention purge; a tenant reads only its own entries.
 */
const A = 'acme';
const B = 'globex';
const JOB = 'reports.build';
const WEBHOOK_SECRET = 'whsec_0123456789abcdef';

const env = new FourServices();
const auth: Record<'admin' | 'acmeAdmin' | 'acmeUser' | 'acmeViewer' | 'globexAdmin', Record<string, string>> = {} as never;
const base = (service: string) => env.base(service);

function p256dh(): string {
  return vapidKeys().publicKey;
}

async function seedNotification(companyId: string, userId: string): Promise<string> {
  const id = randomUUID();
  await env.database.query(`INSERT INTO notifications (id, company_id, user_id, source_event_id, type, title) VALUES ($1, $2, $3, $4, 'task.assigned', 'Water the plants')`, [
    id, companyId, userId, `evt-${id}`,
  ]);
  return id;
}

beforeAll(async () => {
  const vapid = vapidKeys();
  await env.start({
    PUSH_VAPID_PUBLIC_KEY: vapid.publicKey,
    PUSH_VAPID_PRIVATE_KEY: vapid.privateKey,
    PUSH_VAPID_SUBJECT: 'mailto:ops@metronome.test',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
  });
  auth.admin = bearer(await testToken('system-admin', undefined, { sub: 'root' }));
  auth.acmeAdmin = bearer(await testToken('tenant-admin', A, { sub: 'ana' }));
  auth.acmeUser = bearer(await testToken('user', A, { sub: 'ulla' }));
  auth.acmeViewer = bearer(await testToken('viewer', A, { sub: 'vic' }));
  auth.globexAdmin = bearer(await testToken('tenant-admin', B, { sub: 'gus' }));
  // A job tenants may schedule and trigger, declared as a service's runtime declares it.
  await announce(env.nats.url, productionDeclarations([{ job: JOB, service: 'reports', options: { tenantSchedulable: true } }]));
  await waitFor(async () => (await call(base('scheduler'), 'POST', `/api/v1/jobs/${JOB}/trigger`, auth.acmeAdmin, { payload: {} })).status === 202, { what: `${JOB} in the catalog` });
}, 120_000);

afterAll(async () => {
  await env.stop();
});

describe('audit everywhere', () => {
  it('every mutating route of every service writes one entry: its action, the verified actor, the tenant, before and after, no secret', async () => {
    const covered = new Map<string, AuditRow>();
    /** Calls one route and returns its one new audit entry (failing when it wrote none or several). */
    async function audited(service: string, method: string, route: string, path: string, who: keyof typeof auth, body?: unknown, ok = [200, 201, 202, 204]) {
      const since = await lastAuditId(env.database);
      const res = await call(base(service), method, path, auth[who], body);
      if (!ok.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      const rows = await auditSince(env.database, since);
      expect(rows.map((r) => [r.action, r.actor])).toHaveLength(1);
      covered.set(`${service} ${method} ${route}`, rows[0]);
      return { res, entry: rows[0] };
    }

    // scheduler: tenants
    let r = await audited('scheduler', 'POST', '/api/v1/tenants', '/api/v1/tenants', 'admin', { companyId: A, timezone: 'Europe/Berlin' });
    expect(r.entry).toMatchObject({ action: 'tenant.create', actor: 'root', actor_role: 'system-admin', actor_kind: 'jwt', company_id: A, target_id: A, before: null });
    await call(base('scheduler'), 'POST', '/api/v1/tenants', auth.admin, { companyId: B, timezone: 'UTC' });
    r = await audited('scheduler', 'PATCH', '/api/v1/tenants/:companyId', `/api/v1/tenants/${A}`, 'acmeAdmin', { locale: 'de' });
    expect(r.entry).toMatchObject({ action: 'tenant.change', actor: 'ana', actor_role: 'tenant-admin', company_id: A, before: { locale: 'en' }, after: { locale: 'de' } });

    // scheduler: schedules
    r = await audited('scheduler', 'POST', '/api/v1/schedules', '/api/v1/schedules', 'acmeAdmin', { name: 'audit-nightly', kind: 'cron', job: JOB, cron: '0 4 * * *', timezone: 'UTC' });
    const scheduleId = r.res.json.id as string;
    expect(r.entry).toMatchObject({ action: 'schedule.create', company_id: A, target_id: scheduleId, after: { cron: '0 4 * * *' } });
    r = await audited('scheduler', 'PATCH', '/api/v1/schedules/:ref', `/api/v1/schedules/${scheduleId}`, 'acmeAdmin', { cron: '15 4 * * *' });
    expect(r.entry).toMatchObject({ action: 'schedule.change', before: { cron: '0 4 * * *' }, after: { cron: '15 4 * * *' } });
    r = await audited('scheduler', 'POST', '/api/v1/schedules/:ref/pause', `/api/v1/schedules/${scheduleId}/pause`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'schedule.pause', before: { paused: false }, after: { paused: true } });
    await audited('scheduler', 'POST', '/api/v1/schedules/:ref/resume', `/api/v1/schedules/${scheduleId}/resume`, 'acmeAdmin');
    r = await audited('scheduler', 'POST', '/api/v1/schedules/:ref/trigger', `/api/v1/schedules/${scheduleId}/trigger`, 'acmeAdmin', {});
    expect(r.entry).toMatchObject({ action: 'schedule.trigger', company_id: A });
    r = await audited('scheduler', 'DELETE', '/api/v1/schedules/:ref', `/api/v1/schedules/${scheduleId}`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'schedule.delete', before: { id: scheduleId }, after: null });

    // scheduler: jobs and queues
    r = await audited('scheduler', 'POST', '/api/v1/jobs/:job/trigger', `/api/v1/jobs/${JOB}/trigger`, 'acmeAdmin', { payload: { report: 'q3', apiToken: 'tok-123' }, delayMs: 3_600_000 });
    const plannedRun = r.res.json.runId as string;
    expect(r.entry).toMatchObject({ action: 'job.trigger', company_id: A, target_id: JOB, after: { payload: { report: 'q3', apiToken: '[redacted]' } } });
    await seed(env.database, A, JOB);
    r = await audited('scheduler', 'POST', '/api/v1/jobs/:job/pause', `/api/v1/jobs/${JOB}/pause`, 'admin', { reason: 'maintenance' });
    expect(r.entry).toMatchObject({ action: 'job.pause', company_id: null, after: { paused: true, reason: 'maintenance' } });
    await audited('scheduler', 'POST', '/api/v1/jobs/:job/resume', `/api/v1/jobs/${JOB}/resume`, 'admin', {});
    await audited('scheduler', 'POST', '/api/v1/queues/:queue/pause', '/api/v1/queues/low/pause', 'admin', {});
    await audited('scheduler', 'POST', '/api/v1/queues/:queue/resume', '/api/v1/queues/low/resume', 'admin', {});

    // scheduler: runs
    r = await audited('scheduler', 'POST', '/api/v1/runs/:id/cancel', `/api/v1/runs/${plannedRun}/cancel`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'run.cancel', target_id: plannedRun, company_id: A, after: { state: 'cancelled' } });
    r = await audited('scheduler', 'POST', '/api/v1/runs/cleanup', '/api/v1/runs/cleanup', 'admin', { olderThanDays: 30 });
    expect(r.entry).toMatchObject({ action: 'runs.cleanup', after: { deleted: 0 } });

    // scheduler: dead letters
    const dead = [await seed(env.database, A, JOB), await seed(env.database, A, JOB), await seed(env.database, A, JOB), await seed(env.database, A, JOB)];
    r = await audited('scheduler', 'POST', '/api/v1/dlq/:id/retry', `/api/v1/dlq/${dead[0].dlqId}/retry`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'dlq.retry', target_id: dead[0].dlqId, company_id: A });
    await env.database.query(`UPDATE dead_letters SET retried_at = now() WHERE id <> $1 AND retried_at IS NULL`, [dead[1].dlqId]);
    r = await audited('scheduler', 'POST', '/api/v1/dlq/retry', '/api/v1/dlq/retry', 'acmeAdmin', { job: JOB, max: 5 });
    expect(r.entry).toMatchObject({ action: 'dlq.retry', target_id: dead[1].dlqId });
    r = await audited('scheduler', 'DELETE', '/api/v1/dlq/:id', `/api/v1/dlq/${dead[2].dlqId}`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'dlq.purge', target_id: dead[2].dlqId, after: { deleted: 1 } });
    r = await audited('scheduler', 'POST', '/api/v1/dlq/purge', '/api/v1/dlq/purge', 'acmeAdmin', { ids: [dead[3].dlqId] });
    expect(r.entry).toMatchObject({ action: 'dlq.purge', company_id: A, after: { deleted: 1 } });

    // scheduler: retry and delete a run, empty a queue and a job's queue
    const failed = await seed(env.database, A, JOB);
    // Its dead letter already handled: the run itself is retried (a new run linked to it).
    await env.database.query('UPDATE dead_letters SET retried_at = now() WHERE id = $1', [failed.dlqId]);
    r = await audited('scheduler', 'POST', '/api/v1/runs/:id/retry', `/api/v1/runs/${failed.runId}/retry`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'run.retry', target_id: failed.runId, company_id: A, before: { state: 'dead' } });
    r = await audited('scheduler', 'DELETE', '/api/v1/runs/:id', `/api/v1/runs/${failed.runId}`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'run.delete', target_id: failed.runId, company_id: A, before: { state: 'dead' } });
    r = await audited('scheduler', 'POST', '/api/v1/queues/:queue/empty', '/api/v1/queues/low/empty', 'admin', { confirm: 'low' });
    expect(r.entry).toMatchObject({ action: 'queue.empty', target_id: 'low' });
    r = await audited('scheduler', 'POST', '/api/v1/jobs/:job/empty', `/api/v1/jobs/${JOB}/empty`, 'admin', { confirm: JOB });
    expect(r.entry).toMatchObject({ action: 'job.empty', target_id: JOB });

    // documents
    r = await audited('documents', 'PUT', '/api/v1/expiry-settings', '/api/v1/expiry-settings', 'acmeAdmin', { thresholds: [30, 7] });
    expect(r.entry).toMatchObject({ action: 'expiry-settings.put', company_id: A, before: { thresholds: [30, 14, 7, 1] }, after: { thresholds: [30, 7] } });
    await env.database.query(`INSERT INTO documents (company_id, id, type, title, expires_at, version) VALUES ($1, 'passport-1', 'passport', 'Passport', now() + interval '5 days', 1)`, [A]);
    r = await audited('documents', 'POST', '/api/v1/documents/:id/acknowledge', '/api/v1/documents/passport-1/acknowledge', 'acmeAdmin', {});
    expect(r.entry).toMatchObject({ action: 'document.acknowledge', target_id: 'passport-1', company_id: A, after: { acknowledgedBy: 'ana' } });

    // recurrence (the tenant's zone arrives with tenant.upserted)
    await waitFor(async () => (await env.database.query('SELECT 1 FROM recurrence_tenants WHERE company_id = $1', [A])).length === 1, { what: 'recurrence knows acme' });
    r = await audited('recurrence', 'PUT', '/api/v1/recurrence-settings', '/api/v1/recurrence-settings', 'acmeAdmin', { horizonDays: 14 });
    expect(r.entry).toMatchObject({ action: 'recurrence-settings.put', company_id: A, after: { horizonDays: 14 } });
    const template = { title: 'Water plants', rule: 'FREQ=DAILY', startLocal: '2026-01-05T09:00' };
    r = await audited('recurrence', 'POST', '/api/v1/task-templates', '/api/v1/task-templates', 'acmeAdmin', template);
    const templateId = r.res.json.id as string;
    expect(r.entry).toMatchObject({ action: 'task-template.create', target_id: templateId, company_id: A, before: null, after: { title: 'Water plants' } });
    r = await audited('recurrence', 'PUT', '/api/v1/task-templates/:id', `/api/v1/task-templates/${templateId}`, 'acmeAdmin', { ...template, title: 'Water all plants' });
    expect(r.entry).toMatchObject({ action: 'task-template.change', before: { title: 'Water plants' }, after: { title: 'Water all plants' } });
    const instances = await call(base('recurrence'), 'GET', `/api/v1/task-instances?templateId=${templateId}`, auth.acmeAdmin);
    const instanceId = instances.json.items[0].id as string;
    r = await audited('recurrence', 'PATCH', '/api/v1/task-instances/:id', `/api/v1/task-instances/${instanceId}`, 'acmeAdmin', { status: 'done' });
    expect(r.entry).toMatchObject({ action: 'task-instance.status', target_id: instanceId, before: { status: 'open' }, after: { status: 'done' } });
    r = await audited('recurrence', 'DELETE', '/api/v1/task-templates/:id', `/api/v1/task-templates/${templateId}`, 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'task-template.delete', before: { title: 'Water all plants' }, after: null });
    const event = { title: 'Standup', startLocal: '2027-01-05T09:00', reminderOffsetsMinutes: [15] };
    r = await audited('recurrence', 'POST', '/api/v1/calendar-events', '/api/v1/calendar-events', 'acmeAdmin', event);
    const eventId = r.res.json.id as string;
    expect(r.entry).toMatchObject({ action: 'calendar-event.create', target_id: eventId, after: { title: 'Standup' } });
    r = await audited('recurrence', 'PUT', '/api/v1/calendar-events/:id', `/api/v1/calendar-events/${eventId}`, 'acmeAdmin', { ...event, title: 'Daily standup' });
    expect(r.entry).toMatchObject({ action: 'calendar-event.change', before: { title: 'Standup' }, after: { title: 'Daily standup' } });
    await audited('recurrence', 'DELETE', '/api/v1/calendar-events/:id', `/api/v1/calendar-events/${eventId}`, 'acmeAdmin');

    // notifier
    r = await audited('notifier', 'PUT', '/api/v1/webhooks', '/api/v1/webhooks', 'acmeAdmin', { url: 'http://127.0.0.1:9/hook', secret: WEBHOOK_SECRET });
    const webhookId = r.res.json.id as string;
    expect(r.entry).toMatchObject({ action: 'webhook.put', company_id: A, target_id: webhookId, before: null, after: { url: 'http://127.0.0.1:9/hook' } });
    r = await audited('notifier', 'DELETE', '/api/v1/webhooks', '/api/v1/webhooks', 'acmeAdmin');
    expect(r.entry).toMatchObject({ action: 'webhook.delete', target_id: webhookId, before: { url: 'http://127.0.0.1:9/hook' }, after: null });
    const n1 = await seedNotification(A, 'ulla');
    const n2 = await seedNotification(A, 'ulla');
    r = await audited('notifier', 'POST', '/api/v1/notifications/read', '/api/v1/notifications/read', 'acmeUser', { ids: [n1] });
    expect(r.entry).toMatchObject({ action: 'notification.read', actor: 'ulla', actor_role: 'user', company_id: A, target_id: n1, before: null, after: { userId: 'ulla', ids: [n1], marked: 1 } });
    await audited('notifier', 'POST', '/api/v1/notifications/:id/read', `/api/v1/notifications/${n2}/read`, 'acmeUser');
    const endpoint = `https://push.example.com/send/${randomBytes(8).toString('hex')}`;
    r = await audited('notifier', 'POST', '/api/v1/push/subscriptions', '/api/v1/push/subscriptions', 'acmeUser', { endpoint, keys: { p256dh: p256dh(), auth: randomBytes(16).toString('base64url') } });
    const subscriptionId = r.res.json.id as string;
    expect(r.entry).toMatchObject({ action: 'push-subscription.register', target_id: subscriptionId, after: { endpointOrigin: 'https://push.example.com' } });
    await audited('notifier', 'DELETE', '/api/v1/push/subscriptions/:id', `/api/v1/push/subscriptions/${subscriptionId}`, 'acmeUser');

    // No entry holds a secret, a token or a push capability URL.
    const all = JSON.stringify(await env.database.query('SELECT before, after FROM audit_log'));
    for (const secret of [WEBHOOK_SECRET, 'tok-123', endpoint]) expect(all).not.toContain(secret);

    // Every route the services declare was called above: a new mutating route fails here until it is covered.
    const declared = env.apps.flatMap((a) => declaredMutations(a.service, a.app));
    expect(declared.filter((d) => d.notAudited === null).map((d) => `${d.service} ${d.method} ${d.path}`).sort()).toEqual([...covered.keys()].sort());
    for (const d of declared) if (d.action) expect([`${d.service} ${d.method} ${d.path}`, covered.get(`${d.service} ${d.method} ${d.path}`)?.action]).toEqual([`${d.service} ${d.method} ${d.path}`, d.action]);
  });

  it('an entry commits with its change or not at all: when the entry cannot be written the change is rolled back', async () => {
    // The database refuses these entries (as it would a full disk or a broken column): each change must vanish with them.
    await env.database.query(`CREATE FUNCTION audit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.action IN ('webhook.put', 'expiry-settings.put', 'task-template.create', 'schedule.create') THEN RAISE EXCEPTION 'audit entry refused by the test'; END IF;
      RETURN NEW; END $$`);
    await env.database.query(`CREATE TRIGGER audit_test_refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_test_refuse()`);
    try {
      const since = await lastAuditId(env.database);
      expect((await call(base('notifier'), 'PUT', '/api/v1/webhooks', auth.globexAdmin, { url: 'http://127.0.0.1:9/b', secret: WEBHOOK_SECRET })).status).toBe(500);
      expect((await call(base('documents'), 'PUT', '/api/v1/expiry-settings', auth.globexAdmin, { thresholds: [99] })).status).toBe(500);
      expect((await call(base('recurrence'), 'POST', '/api/v1/task-templates', auth.globexAdmin, { title: 'Lost', rule: 'FREQ=DAILY', startLocal: '2026-01-05T09:00' })).status).toBe(500);
      expect((await call(base('scheduler'), 'POST', '/api/v1/schedules', auth.globexAdmin, { name: 'lost', kind: 'cron', job: JOB, cron: '0 4 * * *', timezone: 'UTC' })).status).toBe(500);
      expect(await auditSince(env.database, since)).toEqual([]);
      const left = await env.database.query<{ what: string; n: number }>(
        `SELECT 'webhooks' AS what, count(*)::int AS n FROM notifier_webhooks WHERE company_id = $1
         UNION ALL SELECT 'settings', count(*)::int FROM document_settings WHERE company_id = $1 AND 99 = ANY(thresholds)
         UNION ALL SELECT 'templates', count(*)::int FROM task_templates WHERE company_id = $1
         UNION ALL SELECT 'task instances', count(*)::int FROM task_instances WHERE company_id = $1
         UNION ALL SELECT 'schedules', count(*)::int FROM schedules WHERE name = 'lost'`,
        [B],
      );
      expect(left).toEqual([
        { what: 'webhooks', n: 0 },
        { what: 'settings', n: 0 },
        { what: 'templates', n: 0 },
        { what: 'task instances', n: 0 },
        { what: 'schedules', n: 0 },
      ]);
    } finally {
      await env.database.query('DROP TRIGGER audit_test_refuse ON audit_log');
      await env.database.query('DROP FUNCTION audit_test_refuse()');
    }
    // The same changes go through once entries can be written again, each with its entry.
    const since = await lastAuditId(env.database);
    expect((await call(base('notifier'), 'PUT', '/api/v1/webhooks', auth.globexAdmin, { url: 'http://127.0.0.1:9/b', secret: WEBHOOK_SECRET })).status).toBe(200);
    expect((await auditSince(env.database, since)).map((e) => [e.action, e.actor, e.company_id])).toEqual([['webhook.put', 'gus', B]]);
  });

  it('a refused change leaves no entry', async () => {
    const since = await lastAuditId(env.database);
    const refused = [
      await call(base('recurrence'), 'DELETE', `/api/v1/task-templates/${randomUUID()}`, auth.acmeAdmin),
      await call(base('recurrence'), 'POST', '/api/v1/task-templates', auth.acmeAdmin, { title: 'Bad', rule: 'FREQ=SOMETIMES', startLocal: '2026-01-05T09:00' }),
      await call(base('notifier'), 'DELETE', `/api/v1/push/subscriptions/${randomUUID()}`, auth.acmeUser),
      await call(base('documents'), 'POST', '/api/v1/documents/nope/acknowledge', auth.acmeAdmin, {}),
      await call(base('scheduler'), 'POST', `/api/v1/queues/low/resume`, auth.admin, {}),
      await call(base('notifier'), 'PUT', '/api/v1/webhooks', auth.acmeViewer, { url: 'http://127.0.0.1:9/hook', secret: WEBHOOK_SECRET }),
    ];
    expect(refused.map((r) => r.status)).toEqual([404, 422, 404, 404, 409, 403]);
    expect(await auditSince(env.database, since)).toEqual([]);
  });

  it('audit_log is append-only: UPDATE, DELETE and TRUNCATE are refused; the retention purge deletes old entries and audits itself', async () => {
    const [{ id }] = await env.database.query<{ id: string }>(
      `INSERT INTO audit_log (at, actor, actor_role, actor_kind, action, target_type, company_id) VALUES (now() - interval '400 days', 'old', 'tenant-admin', 'jwt', 'x.old', 'x', $1) RETURNING id`,
      [A],
    );
    const refusal = (sql: string) => env.database.query(sql).then(() => 'done', (e: Error) => e.message);
    expect(await refusal(`UPDATE audit_log SET actor = 'someone-else' WHERE id = ${id}`)).toMatch(/audit_log is append-only: UPDATE refused/);
    expect(await refusal(`DELETE FROM audit_log WHERE id = ${id}`)).toMatch(/audit_log is append-only: DELETE refused/);
    expect(await refusal('TRUNCATE audit_log')).toMatch(/audit_log is append-only: TRUNCATE refused/);
    // Claiming to be the purge does not reach entries of the last day.
    const client = await env.database.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL metronome.audit_purge = 'on'`);
      const fresh = await client.query(`DELETE FROM audit_log WHERE at > now() - interval '1 hour'`).then(() => 'done', (e: Error) => e.message);
      expect(fresh).toMatch(/append-only: DELETE refused/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await env.database.query('SELECT actor FROM audit_log WHERE id = $1', [id])).toEqual([{ actor: 'old' }]);

    // The retention path: audit_log_purge() deletes what is past the cut-off and records that it did, in the same transaction.
    const since = await lastAuditId(env.database);
    const [{ n }] = await env.database.query<{ n: number }>(`SELECT audit_log_purge(now() - interval '90 days', 5000) AS n`);
    expect(n).toBe(1);
    expect(await env.database.query('SELECT 1 FROM audit_log WHERE id = $1', [id])).toEqual([]);
    expect((await auditSince(env.database, since)).map((e) => [e.action, e.actor, e.after])).toEqual([['audit.purge', 'system', { deleted: 1 }]]);
    // A cut-off inside the last day is held at a day.
    const [{ n: none }] = await env.database.query<{ n: number }>(`SELECT audit_log_purge(now() + interval '1 day', 5000) AS n`);
    expect(none).toBe(0);
  });

  it('a tenant reads only its own audit entries', async () => {
    const mine = await call(base('scheduler'), 'GET', '/api/v1/audit?limit=500', auth.acmeViewer);
    expect(mine.status).toBe(200);
    expect(mine.json.items.length).toBeGreaterThan(20);
    expect(new Set(mine.json.items.map((e: { companyId: string }) => e.companyId))).toEqual(new Set([A]));
    expect((await call(base('scheduler'), 'GET', `/api/v1/audit?companyId=${B}`, auth.acmeViewer)).json.items).toEqual([]);
    const theirs = await call(base('scheduler'), 'GET', '/api/v1/audit?limit=500', auth.globexAdmin);
    expect(theirs.json.items.length).toBeGreaterThan(0);
    expect(new Set(theirs.json.items.map((e: { companyId: string }) => e.companyId))).toEqual(new Set([B]));
    const platform = await call(base('scheduler'), 'GET', '/api/v1/audit?limit=500', auth.admin);
    expect(new Set(platform.json.items.map((e: { companyId: string | null }) => e.companyId))).toEqual(new Set([A, B, null]));
  });
});
