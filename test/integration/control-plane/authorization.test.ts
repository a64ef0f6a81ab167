import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, UnsecuredJWT } from 'jose';
import { announce, productionDeclarations } from '../../support/job-declarations.js';
import { waitFor } from '../../support/wait.js';
import { apiKey, bearer, ControlPlaneEnv, JWT_SECRET, seed, TENANT_A, TENANT_B, token } from './support.js';

/**
 * Every admin route x every caller (system-admin, tenant-admin and viewer of
 * tenant A, a service API key, anonymous) x an object of the caller's own
 * tenant versus another tenant's. "allowed" means authorisation passed: the
 * route answered 2xx, or 409 when a previous caller already made the change.
 */
type Caller = 'system-admin' | 'tenant-admin' | 'viewer' | 'service' | 'anonymous';
type Outcome = 'allowed' | 'forbidden' | 'hidden' | 'unauthenticated';
type Tenant = 'own' | 'other';

interface Target {
  runId: string;
  dlqId: string;
  companyId: string;
  scheduleId: string;
}

interface Route {
  name: string;
  perm: 'read' | 'write' | 'platform';
  /** Routes about one tenant's object: tenant callers get 404 for the other tenant. */
  tenanted: boolean;
  /** Tenant callers see an empty list, not an error, for the other tenant. */
  list?: boolean;
  call: (t: Target) => { method: string; path: string; body?: unknown };
}

const ROUTES: Route[] = [
  { name: 'GET jobs', perm: 'read', tenanted: false, call: () => ({ method: 'GET', path: '/api/v1/jobs' }) },
  { name: 'GET job', perm: 'read', tenanted: false, call: () => ({ method: 'GET', path: '/api/v1/jobs/reports.build' }) },
  { name: 'POST job trigger', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: '/api/v1/jobs/reports.build/trigger', body: { payload: { n: 1 }, companyId: t.companyId } }) },
  { name: 'POST job pause', perm: 'platform', tenanted: false, call: () => ({ method: 'POST', path: '/api/v1/jobs/reports.build/pause', body: {} }) },
  { name: 'POST job resume', perm: 'platform', tenanted: false, call: () => ({ method: 'POST', path: '/api/v1/jobs/reports.build/resume', body: {} }) },
  { name: 'GET queues', perm: 'read', tenanted: false, call: () => ({ method: 'GET', path: '/api/v1/queues' }) },
  { name: 'POST queue pause', perm: 'platform', tenanted: false, call: () => ({ method: 'POST', path: '/api/v1/queues/low/pause' }) },
  { name: 'POST queue resume', perm: 'platform', tenanted: false, call: () => ({ method: 'POST', path: '/api/v1/queues/low/resume' }) },
  { name: 'GET runs', perm: 'read', tenanted: true, list: true, call: (t) => ({ method: 'GET', path: `/api/v1/runs?companyId=${t.companyId}` }) },
  { name: 'GET run', perm: 'read', tenanted: true, call: (t) => ({ method: 'GET', path: `/api/v1/runs/${t.runId}` }) },
  { name: 'POST run cancel', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: `/api/v1/runs/${t.runId}/cancel` }) },
  { name: 'POST runs cleanup', perm: 'platform', tenanted: false, call: (t) => ({ method: 'POST', path: '/api/v1/runs/cleanup', body: { olderThanDays: 3650, companyId: t.companyId } }) },
  { name: 'GET dlq', perm: 'read', tenanted: true, list: true, call: (t) => ({ method: 'GET', path: `/api/v1/dlq?companyId=${t.companyId}` }) },
  { name: 'GET dlq item', perm: 'read', tenanted: true, call: (t) => ({ method: 'GET', path: `/api/v1/dlq/${t.dlqId}` }) },
  { name: 'POST dlq retry', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: `/api/v1/dlq/${t.dlqId}/retry` }) },
  { name: 'POST dlq retry matching', perm: 'write', tenanted: true, list: true, call: (t) => ({ method: 'POST', path: '/api/v1/dlq/retry', body: { companyId: t.companyId, job: 'nothing.matches' } }) },
  { name: 'DELETE dlq item', perm: 'write', tenanted: true, call: (t) => ({ method: 'DELETE', path: `/api/v1/dlq/${t.dlqId}` }) },
  { name: 'POST dlq purge', perm: 'write', tenanted: true, list: true, call: (t) => ({ method: 'POST', path: '/api/v1/dlq/purge', body: { companyId: t.companyId, job: 'nothing.matches', confirm: true } }) },
  { name: 'GET schedules', perm: 'read', tenanted: true, list: true, call: (t) => ({ method: 'GET', path: `/api/v1/schedules?companyId=${t.companyId}` }) },
  { name: 'GET schedule', perm: 'read', tenanted: true, call: (t) => ({ method: 'GET', path: `/api/v1/schedules/${t.scheduleId}` }) },
  { name: 'GET schedule preview', perm: 'read', tenanted: true, call: (t) => ({ method: 'GET', path: `/api/v1/schedules/${t.scheduleId}/preview?count=3` }) },
  { name: 'POST schedules preview', perm: 'read', tenanted: false, call: () => ({ method: 'POST', path: '/api/v1/schedules/preview', body: { cron: '0 9 * * *', timezone: 'Europe/Berlin' } }) },
  { name: 'POST schedule', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: '/api/v1/schedules', body: { name: `s-${Math.random().toString(36).slice(2)}`, kind: 'cron', job: 'reports.build', cron: '0 3 * * *', scope: 'tenant', companyId: t.companyId } }) },
  { name: 'PATCH schedule', perm: 'write', tenanted: true, call: (t) => ({ method: 'PATCH', path: `/api/v1/schedules/${t.scheduleId}`, body: { cron: '5 3 * * *' } }) },
  { name: 'POST schedule pause', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: `/api/v1/schedules/${t.scheduleId}/pause` }) },
  { name: 'POST schedule resume', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: `/api/v1/schedules/${t.scheduleId}/resume` }) },
  { name: 'POST schedule trigger', perm: 'write', tenanted: true, call: (t) => ({ method: 'POST', path: `/api/v1/schedules/${t.scheduleId}/trigger`, body: { payload: { manual: true } } }) },
  { name: 'DELETE schedule', perm: 'write', tenanted: true, call: (t) => ({ method: 'DELETE', path: `/api/v1/schedules/${t.scheduleId}` }) },
  { name: 'GET metrics summary', perm: 'read', tenanted: false, call: () => ({ method: 'GET', path: '/api/v1/metrics/summary' }) },
  { name: 'GET audit', perm: 'read', tenanted: true, list: true, call: (t) => ({ method: 'GET', path: `/api/v1/audit?companyId=${t.companyId}` }) },
];

const CALLERS: Caller[] = ['system-admin', 'tenant-admin', 'viewer', 'service', 'anonymous'];

function expected(route: Route, caller: Caller, tenant: Tenant): Outcome {
  if (caller === 'anonymous') return 'unauthenticated';
  const grants = { 'system-admin': ['read', 'write', 'platform'], 'tenant-admin': ['read', 'write'], viewer: ['read'], service: ['read', 'write'] }[caller];
  if (!grants.includes(route.perm)) return 'forbidden';
  const tenantScoped = caller === 'tenant-admin' || caller === 'viewer';
  if (tenantScoped && route.tenanted && tenant === 'other' && !route.list) return 'hidden';
  return 'allowed';
}

function outcomeOf(status: number): Outcome | `status ${number}` {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'hidden';
  if ((status >= 200 && status < 300) || status === 409) return 'allowed';
  return `status ${status}`;
}

const env = new ControlPlaneEnv('authorization');
const auth: Record<Caller, Record<string, string>> = {} as never;

async function target(companyId: string): Promise<Target> {
  const { runId, dlqId } = await seed(env.database, companyId);
  const admin = bearer(await token('system-admin'));
  const s = await env.call('POST', '/api/v1/schedules', {
    auth: admin,
    body: { name: `t-${companyId}-${Math.random().toString(36).slice(2, 8)}`, kind: 'cron', job: 'reports.build', cron: '0 4 * * *', timezone: 'UTC', scope: 'tenant', companyId },
  });
  expect(s.status).toBe(201);
  return { runId, dlqId, companyId, scheduleId: s.json.id };
}

beforeAll(async () => {
  // A fresh schedule per route, caller and tenant: far more than the default per-tenant cap.
  await env.start({ API_RATE_LIMIT_BURST: '100000', API_RATE_LIMIT_PER_SECOND: '100000', SCHEDULES_MAX_PER_TENANT: '100000' });
  auth['system-admin'] = bearer(await token('system-admin'));
  auth['tenant-admin'] = bearer(await token('tenant-admin', TENANT_A));
  auth.viewer = bearer(await token('viewer', TENANT_A));
  auth.service = apiKey();
  auth.anonymous = {};
  // The job these routes name, declared tenant-schedulable as a service's runtime would publish it (docs/jobs.md).
  await announce(env.nats.url, productionDeclarations([{ job: 'reports.build', service: 'reports', options: { tenantSchedulable: true } }]));
  await waitFor(async () => (await env.call('POST', '/api/v1/jobs/reports.build/trigger', { auth: auth['tenant-admin'], body: { payload: {} } })).status === 202, { what: 'reports.build in the catalog' });
});
afterAll(async () => {
  await env.stop();
});

describe('authorisation matrix', () => {
  it('answers every route for every caller and tenant as the role table says', async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const route of ROUTES) {
      // Fresh objects for every caller and tenant (a change by one caller never hides another's answer), made at once.
      const cases = CALLERS.flatMap((caller) => (['own', 'other'] as Tenant[]).map((tenant) => ({ caller, tenant })));
      const targets = await Promise.all(cases.map(({ tenant }) => target(tenant === 'own' ? TENANT_A : TENANT_B)));
      for (const [n, { caller, tenant }] of cases.entries()) {
        const t = targets[n];
        const { method, path, body } = route.call(t);
        const res = await env.call(method, path, { auth: auth[caller], body });
        const want = expected(route, caller, tenant);
        const got = outcomeOf(res.status);
        checked++;
        if (got !== want) mismatches.push(`${route.name} as ${caller} on ${tenant} tenant: expected ${want}, got ${got} ${res.text.slice(0, 200)}`);
        if (res.status >= 400) {
          if (res.status >= 500 || !res.type.startsWith('application/problem+json') || res.json?.status !== res.status || typeof res.json?.title !== 'string') {
            mismatches.push(`${route.name} as ${caller}: ${res.status} is not problem+json: ${res.type} ${res.text.slice(0, 200)}`);
          }
        }
        // A tenant caller listing another tenant sees nothing of it.
        if (route.list && tenant === 'other' && (caller === 'tenant-admin' || caller === 'viewer') && res.status === 200 && Array.isArray(res.json?.items)) {
          const leaked = res.json.items.filter((i: { companyId?: string | null }) => i.companyId === TENANT_B);
          if (leaked.length) mismatches.push(`${route.name} as ${caller} leaked ${leaked.length} items of ${TENANT_B}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(ROUTES.length * CALLERS.length * 2);
  });

  it('lists only the own tenant for tenant callers and every tenant and the platform for platform callers', async () => {
    await target(TENANT_A);
    await target(TENANT_B);
    // A platform run (no tenant), as the scheduler's own hourly documents tick leaves one: seeded so the
    // answer does not depend on whether this test crosses the top of an hour.
    await env.database.query(
      `INSERT INTO job_attempts (run_id, attempt, job, queue, company_id, outcome, final, failed, scheduled_for, enqueued_at, started_at, finished_at, duration_ms, payload)
       VALUES ($1, 1, 'documents.tick', 'normal', NULL, 'succeeded', true, false, now(), now(), now(), now(), 1, '{}')`,
      [`run-platform-${Math.random().toString(36).slice(2, 10)}`],
    );
    for (const caller of ['viewer', 'tenant-admin'] as const) {
      const mine = await env.call('GET', '/api/v1/runs?limit=500', { auth: auth[caller] });
      expect(new Set(mine.json.items.map((r: { companyId: string | null }) => r.companyId))).toEqual(new Set([TENANT_A]));
    }
    const all = await env.call('GET', '/api/v1/runs?limit=500', { auth: auth['system-admin'] });
    expect(new Set(all.json.items.map((r: { companyId: string | null }) => r.companyId))).toEqual(new Set([TENANT_A, TENANT_B, null]));
    const dlq = await env.call('GET', '/api/v1/dlq?status=all&limit=500', { auth: auth['tenant-admin'] });
    expect(dlq.json.items.every((d: { companyId: string }) => d.companyId === TENANT_A)).toBe(true);
  });

  it('keeps an audit entry for each change with who, what, tenant, before and after', async () => {
    const t = await target(TENANT_A);
    const res = await env.call('PATCH', `/api/v1/schedules/${t.scheduleId}`, { auth: auth['tenant-admin'], body: { cron: '15 6 * * *' } });
    expect(res.status).toBe(200);
    const log = await env.call('GET', `/api/v1/audit?targetId=${t.scheduleId}&action=schedule.change`, { auth: auth.viewer });
    expect(log.status).toBe(200);
    expect(log.json.items).toHaveLength(1);
    const entry = log.json.items[0];
    expect(entry).toMatchObject({ actor: `tenant-admin-${TENANT_A}`, actorRole: 'tenant-admin', action: 'schedule.change', targetType: 'schedule', companyId: TENANT_A });
    expect(entry.before.cron).toBe('0 4 * * *');
    expect(entry.after.cron).toBe('15 6 * * *');
    expect(new Date(entry.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const foreign = await env.call('GET', '/api/v1/audit?limit=500', { auth: bearer(await token('viewer', TENANT_B)) });
    expect(foreign.json.items.some((e: { targetId: string }) => e.targetId === t.scheduleId)).toBe(false);
  });
});

describe('run cancellation', () => {
  it('cancels a waiting run of the own tenant through JobControl, audits it, and refuses finished or foreign runs', async () => {
    const runId = `run-cancel-${Math.random().toString(36).slice(2, 10)}`;
    await env.database.query(
      `INSERT INTO job_runs (id, job, queue, company_id, priority, state, attempts, max_attempts, payload, scheduled_for)
       VALUES ($1, 'reports.build', 'normal', $2, 'normal', 'queued', 0, 5, '{}', now())`,
      [runId, TENANT_A],
    );
    // Another tenant's admin does not see it.
    const foreign = await env.call('POST', `/api/v1/runs/${runId}/cancel`, { auth: bearer(await token('tenant-admin', TENANT_B)) });
    expect(foreign.status).toBe(404);
    const res = await env.call('POST', `/api/v1/runs/${runId}/cancel`, { auth: auth['tenant-admin'] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: runId, previousState: 'queued', state: 'cancelled' });
    expect((await env.database.query<{ state: string }>('SELECT state FROM job_runs WHERE id = $1', [runId]))[0].state).toBe('cancelled');
    const again = await env.call('POST', `/api/v1/runs/${runId}/cancel`, { auth: auth['tenant-admin'] });
    expect(again.status).toBe(409);
    const log = await env.call('GET', `/api/v1/audit?targetId=${runId}&action=run.cancel`, { auth: auth.viewer });
    expect(log.json.items).toHaveLength(1);
    expect(log.json.items[0]).toMatchObject({ actor: `tenant-admin-${TENANT_A}`, targetType: 'run', companyId: TENANT_A, before: { state: 'queued' }, after: { state: 'cancelled' } });
  });

  it('cancels a run waiting in JetStream (no job_runs row) for its own tenant only', async () => {
    const trig = await env.call('POST', '/api/v1/jobs/reports.build/trigger', { auth: auth['tenant-admin'], body: { payload: { n: 2 } } });
    expect(trig.status).toBe(202);
    expect(await env.database.query('SELECT 1 FROM job_runs WHERE id = $1', [trig.json.runId])).toEqual([]);
    const foreign = await env.call('POST', `/api/v1/runs/${trig.json.runId}/cancel`, { auth: bearer(await token('tenant-admin', TENANT_B)) });
    expect(foreign.status).toBe(404);
    const res = await env.call('POST', `/api/v1/runs/${trig.json.runId}/cancel`, { auth: auth['tenant-admin'] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: trig.json.runId, previousState: 'queued', state: 'cancelled' });
  });
});

describe('dead-letter retry', () => {
  it('retries a dead job as a fresh run linked to the dead one, which stays dead', async () => {
    const { runId, dlqId } = await seed(env.database, TENANT_A);
    const res = await env.call('POST', `/api/v1/dlq/${dlqId}/retry`, { auth: auth['tenant-admin'] });
    expect(res.status).toBe(200);
    expect(res.json.newRunId).toEqual(expect.any(String));
    // The retry is a planned run that names the dead one; the dead run's history still ends dead after five attempts.
    const runs = await env.database.query<{ id: string; state: string; attempts: number; retry_of: string | null }>(
      'SELECT id, state, attempts, retry_of FROM job_runs WHERE id = ANY($1) ORDER BY created_at',
      [[runId, res.json.newRunId]],
    );
    expect(runs).toEqual([{ id: res.json.newRunId, state: expect.stringMatching(/^(scheduled|queued)$/), attempts: 0, retry_of: runId }]);
    const dead = await env.call('GET', `/api/v1/runs/${runId}`, { auth: auth['tenant-admin'] });
    expect(dead.json).toMatchObject({ id: runId, state: 'dead', attempts: 5 });
    expect(dead.json.attemptHistory).toHaveLength(5);
    expect((await env.call('POST', `/api/v1/dlq/${dlqId}/retry`, { auth: auth['tenant-admin'] })).status).toBe(409);
  });
});

describe('credentials', () => {
  const refused = async (headers: Record<string, string>) => {
    const res = await env.call('GET', '/api/v1/jobs', { auth: headers });
    expect(res.status).toBe(401);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.json).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/api/v1/jobs' });
    expect(JSON.stringify(res.json)).not.toMatch(/stack|at .*\.js|JWS|JWT[A-Z]/);
    return res;
  };

  it('refuses alg none, expired, tampered, wrongly signed and malformed tokens, and unknown API keys', async () => {
    const none = new UnsecuredJWT({ role: 'system-admin' }).setSubject('evil').setExpirationTime('1h').encode();
    await refused(bearer(none));
    await refused(bearer(await token('system-admin', undefined, { expSeconds: -120 })));
    const good = await token('viewer', TENANT_A);
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'system-admin' })).toString('base64url')}.${s}`;
    await refused(bearer(tampered));
    await refused(bearer(await token('system-admin', undefined, { secret: 'another-secret-that-is-long-enough-123456' })));
    await refused(bearer('not.a.jwt'));
    await refused(bearer('garbage'));
    await refused({ Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    await refused(apiKey('wrong-key'));
    // HS256 header but signed as HS512 with the right secret: the algorithm is pinned.
    const hs512 = await new SignJWT({ role: 'system-admin' }).setProtectedHeader({ alg: 'HS512' }).setSubject('x').setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));
    await refused(bearer(hs512));
    // No exp claim.
    const noExp = await new SignJWT({ role: 'system-admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(new TextEncoder().encode(JWT_SECRET));
    await refused(bearer(noExp));
    // A tenant role without a companyId.
    await refused(bearer(await token('tenant-admin')));
    // An unknown role.
    const unknownRole = await new SignJWT({ role: 'root' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));
    await refused(bearer(unknownRole));
  });

  it('says why in the problem detail and asks for a bearer token', async () => {
    const expired = await refused(bearer(await token('viewer', TENANT_A, { expSeconds: -120 })));
    expect(expired.json.detail).toMatch(/expired/);
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const none = await refused({});
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('problem+json and input validation', () => {
  it('answers 404 for unknown ids and paths, 400 for unknown or bad fields, 422 for invalid cron and timezone, 409 for conflicts, 413 for big bodies', async () => {
    const admin = auth['system-admin'];
    const notFound = await env.call('GET', '/api/v1/runs/does-not-exist', { auth: admin });
    expect(notFound.status).toBe(404);
    expect(notFound.json).toMatchObject({ type: 'https://metronome.dev/problems/not-found', title: 'Not Found', status: 404 });
    expect((await env.call('GET', '/api/v1/no-such-route', { auth: admin })).json).toMatchObject({ status: 404 });

    const unknownField = await env.call('POST', '/api/v1/jobs/reports.build/trigger', { auth: admin, body: { payload: {}, evil: true } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json.errors).toEqual([{ field: 'evil', messages: [expect.stringMatching(/should not exist/)] }]);
    const badQuery = await env.call('GET', '/api/v1/runs?limit=100000&state=bogus', { auth: admin });
    expect(badQuery.status).toBe(400);
    expect(badQuery.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['limit', 'state']);
    const badJson = await env.call('POST', '/api/v1/schedules/preview', { auth: admin, raw: '{"cron": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.type).toMatch(/^application\/problem\+json/);

    const invalid = await env.call('POST', '/api/v1/schedules', {
      auth: admin, body: { name: 'bad-one', kind: 'cron', job: 'reports.build', cron: '61 * * * *', timezone: 'Europe/Atlantis' },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.json.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^cron:/), expect.stringMatching(/^timezone:/)]));
    const preview = await env.call('POST', '/api/v1/schedules/preview', { auth: admin, body: { cron: '30 2 * * *', timezone: 'Europe/Berlin', count: 3 } });
    expect(preview.status).toBe(200);
    expect(preview.json.next).toHaveLength(3);

    const created = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: 'twice', kind: 'interval', job: 'reports.build', every: '90s' } });
    expect(created.status).toBe(201);
    const again = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: 'twice', kind: 'interval', job: 'reports.build', every: '90s' } });
    expect([409, 422]).toContain(again.status);
    expect((await env.call('POST', '/api/v1/queues/high/pause', { auth: admin })).status).toBe(200);
    const paused = await env.call('POST', '/api/v1/queues/high/pause', { auth: admin });
    expect(paused.status).toBe(409);
    expect(paused.json).toMatchObject({ type: 'https://metronome.dev/problems/conflict', status: 409 });

    const big = await env.call('POST', '/api/v1/jobs/reports.build/trigger', { auth: admin, raw: JSON.stringify({ payload: { blob: 'x'.repeat(200_000) } }) });
    expect(big.status).toBe(413);
    expect(big.type).toMatch(/^application\/problem\+json/);
    expect(big.json).toMatchObject({ status: 413, title: 'Content Too Large' });
  });

  it('serves the OpenAPI document and its UI', async () => {
    const doc = await env.call('GET', '/api/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe('3.1.0');
    for (const path of ['/api/v1/jobs', '/api/v1/runs', '/api/v1/runs/{id}', '/api/v1/runs/{id}/cancel', '/api/v1/dlq/{id}/retry', '/api/v1/schedules/preview', '/api/v1/metrics/summary', '/api/v1/audit']) {
      expect(Object.keys(doc.json.paths)).toContain(path);
    }
    expect(doc.json.components.securitySchemes).toHaveProperty('apiKey');
    const ui = await env.call('GET', '/api/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
    expect((await env.call('GET', '/api/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
  });

  it('answers 404 problem+json for a static file named after a prototype property, on the API docs and the dashboard', async () => {
    // The fault suite's route fuzzer found /api/docs/assets/toString answering 500: the file table was a plain object.
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      for (const path of [`/api/docs/assets/${name}`, `/dashboard/${name}`]) {
        const res = await env.call('GET', path);
        expect({ path, status: res.status, problem: res.type.startsWith('application/problem+json') }).toEqual({ path, status: 404, problem: true });
        expect(res.json.detail).toContain(name);
      }
    }
  });
});
