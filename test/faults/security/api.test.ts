import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SignJWT, UnsecuredJWT } from 'jose';
import { createCloudEvent, encodeCloudEvent, subjects } from '../../../libs/common/src/index.js';
import { seed, token } from '../../integration/control-plane/support.js';
import { scenario } from '../support/recorder.js';
import { waitFor } from '../../support/wait.js';
import { FourServices, tenantFingerprint, type Route } from './services.js';

/**
 * Security: cross-tenant attempts on every HTTP route of every service (routes
 * read from each app's router, so new controllers are covered without editing
 * this file), bad credentials on every control-plane route, and property-based
 * fuzzing of every route. Tenant A is acme; the victim B is globex, whose data
 * carries MARKER in every text field.
 */
const A = 'acme';
const B = 'globex';
const MARKER = 'GLOBEX-PRIVATE-7f3a';
const NOTIFICATION_ID = '5f0c9a52-3f43-4a57-9d55-6a1f0e0b7c11';
const env = new FourServices();
let routes: Route[] = [];
const victimIds: string[] = [];
let victimSecret = '';
let authA: Record<string, string> = {};

async function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown, raw?: string) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  const init: RequestInit = { method, headers: { ...headers }, signal: controller.signal };
  if (method !== 'GET' && method !== 'HEAD' && (raw !== undefined || body !== undefined)) {
    init.body = raw ?? JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  try {
    const res = await fetch(`${base}${path}`, init);
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      // A stream (SSE) never ends: read what it sends first, then hang up.
      const reader = res.body!.getReader();
      const first = await Promise.race([reader.read(), new Promise<{ value?: Uint8Array }>((r) => setTimeout(() => r({}), 300))]);
      controller.abort();
      return { status: res.status, text: first.value ? new TextDecoder().decode(first.value) : '' };
    }
    return { status: res.status, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

/** Things of B that must never reach A: the marker, B's webhook secret. Ids are not secret, but B's text is. */
function leaks(text: string): string[] {
  const found: string[] = [];
  if (text.includes(MARKER)) found.push('marker');
  if (victimSecret && text.includes(victimSecret)) found.push('webhook secret');
  return found;
}

/** 5xx already reported to the owning engineer, counted in the notes but not failing the run (none open). */
const KNOWN_5XX: RegExp[] = [];

const fill = (path: string, value: string) => path.replace(/:[A-Za-z_]+/g, encodeURIComponent(value));

beforeAll(async () => {
  await env.start();
  // The HTTP methods clients use (the API's catch-all 404 route also answers CONNECT, TRACE...).
  routes = env.routes().filter((r) => ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
  const asTenant = async (companyId: string, role: 'tenant-admin' | 'system-admin' = 'tenant-admin') => ({
    Authorization: `Bearer ${await token(role, role === 'system-admin' ? undefined : companyId, { sub: `user-${companyId}` })}`,
    'X-Company-Id': companyId,
    'X-User-Id': `user-${companyId}`,
  });
  authA = await asTenant(A);
  const authB = await asTenant(B);
  const admin = await asTenant(B, 'system-admin');

  // B's data, made through the services themselves where they offer a way.
  const { runId, dlqId } = await seed(env.database, B);
  victimIds.push(runId, dlqId);
  const sched = await call(env.base('scheduler'), 'POST', '/api/v1/schedules', admin, {
    name: `${MARKER}-schedule`, kind: 'cron', job: 'reports.build', cron: '0 4 * * *', timezone: 'UTC', scope: 'tenant', companyId: B,
  });
  expect(sched.status).toBe(201);
  victimIds.push(JSON.parse(sched.text).id);
  const docId = 'globex-doc-1';
  const e = createCloudEvent({ type: 'document.upserted', source: 'security-test', companyId: B, data: { id: docId, companyId: B, version: 1, title: MARKER, expiresAt: new Date(Date.now() + 5 * 86_400_000).toISOString() } });
  await env.js.publish(subjects.event(B, 'document.upserted'), encodeCloudEvent(e), { msgID: e.id });
  await waitFor(async () => (await env.database.query('SELECT 1 FROM documents WHERE company_id = $1', [B])).length === 1, { what: 'B document projected' });
  victimIds.push(docId);
  expect((await call(env.base('documents'), 'PUT', '/api/v1/expiry-settings', authB, { scanHour: 7, thresholds: [30, 7, 1] })).status).toBeLessThan(300);
  victimSecret = `${MARKER}-webhook-secret`;
  expect((await call(env.base('notifier'), 'PUT', '/api/v1/webhooks', authB, { url: 'http://127.0.0.1:9/hook', secret: victimSecret })).status).toBeLessThan(300);
  await env.database.query(
    `INSERT INTO notifications (id, company_id, user_id, source_event_id, type, title, body)
     VALUES ($1::uuid, $2, $3, $1::text, 'document.expiring', $4, $4)`,
    [NOTIFICATION_ID, B, `user-${B}`, MARKER],
  );
  victimIds.push(NOTIFICATION_ID);
  const tpl = await call(env.base('recurrence'), 'POST', '/api/v1/task-templates', authB, { title: MARKER, rule: 'FREQ=DAILY', timezone: 'UTC', startLocal: '2030-01-01T09:00' });
  expect(tpl.status).toBe(201);
  victimIds.push(JSON.parse(tpl.text).id);
  const cal = await call(env.base('recurrence'), 'POST', '/api/v1/calendar-events', authB, { title: MARKER, startLocal: '2030-01-01T10:00', timezone: 'UTC', reminderOffsetsMinutes: [15] });
  expect(cal.status).toBe(201);
  victimIds.push(JSON.parse(cal.text).id);
  for (const r of await env.database.query<{ id: string }>('SELECT id FROM task_instances WHERE company_id = $1 LIMIT 3', [B]).catch(() => [])) victimIds.push(r.id);
}, 180_000);

afterAll(async () => {
  await env.stop();
});

describe('security: HTTP API', () => {
  it('enumerates the routes of all four services from their routers', () => {
    const services = new Set(routes.map((r) => r.service));
    expect([...services].sort()).toEqual(['documents', 'notifier', 'recurrence', 'scheduler']);
    expect(routes.filter((r) => r.path.startsWith('/api/')).length).toBeGreaterThan(40);
  });

  it('refuses every cross-tenant attempt on every route and leaks nothing of the other tenant', async () => {
    await scenario('S1 cross-tenant-http', async (c) => {
      const before = await tenantFingerprint(env.database, B);
      const problems: string[] = [];
      const bodies = [{}, { companyId: B }, { companyId: B, title: 'x', name: 'x', timezone: 'UTC', status: 'done' }];
      for (const route of routes) {
        const targets = route.path.includes(':') ? victimIds : [''];
        for (const id of targets) {
          const path = fill(route.path, id);
          for (const query of ['', `?companyId=${B}`]) {
            for (const body of route.method === 'GET' ? [undefined] : bodies) {
              const res = await call(route.base, route.method, `${path}${query}`, authA, body);
              c.messages++;
              c.faults++;
              const l = leaks(res.text);
              if (res.status >= 500) problems.push(`${route.method} ${path}${query}: ${res.status} ${res.text.slice(0, 200)}`);
              if (l.length) problems.push(`${route.method} ${path}${query} -> ${res.status} leaks ${l.join(', ')}`);
            }
          }
        }
      }
      const after = await tenantFingerprint(env.database, B);
      const changed = Object.keys(before).filter((t) => before[t] !== after[t]);
      c.lost = problems.length + changed.length;
      c.notes = `${routes.length} routes x B's ${victimIds.length} ids; tables of B changed: ${changed.join(', ') || 'none'}`;
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
    });
  }, 300_000);

  it('refuses tampered, expired, wrongly signed and alg:none tokens on every control-plane route', async () => {
    await scenario('S2 bad-jwt-every-route', async (c) => {
      const good = await token('system-admin', undefined, { sub: 'jwt-test' });
      const [h, p, s] = good.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'system-admin', companyId: B, sub: 'mallory' })).toString('base64url')}.${s}`;
      const expired = await token('system-admin', undefined, { expSeconds: -60 });
      const wrongKey = await new SignJWT({ role: 'system-admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-of-sufficient-length-000'));
      const none = new UnsecuredJWT({ role: 'system-admin' }).setSubject('x').setExpirationTime('1h').encode();
      const bad = { tampered, expired, wrongKey, none, garbage: 'not.a.jwt' };
      const problems: string[] = [];
      // Every control-plane API route but the public OpenAPI document and the catch-all 404.
      const api = routes.filter((r) => r.service === 'scheduler' && r.path.startsWith('/api/v1/') && !r.path.includes('*'));
      for (const route of api) {
        for (const [name, t] of Object.entries(bad)) {
          const res = await call(route.base, route.method, fill(route.path, victimIds[0]), { Authorization: `Bearer ${t}` }, {});
          c.messages++;
          c.faults++;
          if (res.status !== 401) problems.push(`${route.method} ${route.path} with ${name} token: ${res.status}`);
          if (leaks(res.text).length) problems.push(`${route.method} ${route.path} with ${name} token leaks`);
        }
      }
      c.lost = problems.length;
      c.notes = `${api.length} control-plane routes x ${Object.keys(bad).length} bad tokens`;
      expect(problems).toEqual([]);
    });
  }, 120_000);

  it('fuzzes every route with thousands of generated inputs: no 5xx from input alone, no leak across tenants', async () => {
    await scenario('S3 fuzz-http', async (c) => {
      const before = await tenantFingerprint(env.database, B);
      const problems: string[] = [];
      const known: string[] = [];
      const segment = fc.oneof(fc.string(), fc.uuid(), fc.constantFrom(...victimIds), fc.string({ unit: 'grapheme', maxLength: 50 }), fc.constantFrom('..', '%00', "' OR 1=1 --", '-1', '9'.repeat(40)));
      const query = fc.dictionary(fc.constantFrom('companyId', 'limit', 'cursor', 'before', 'from', 'to', 'count', 'job', 'state', 'status', 'unread', 'expiringBefore', 'templateId'), fc.oneof(fc.string(), fc.integer().map(String), fc.constant(B)), { maxKeys: 4 });
      const body = fc.oneof(fc.jsonValue(), fc.object(), fc.string().map((s) => ({ raw: s })));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), segment, query, body, fc.boolean(), async (route, seg, q, b, malformed) => {
          const qs = new URLSearchParams(q as Record<string, string>).toString();
          const path = `${fill(route.path, seg)}${qs ? `?${qs}` : ''}`;
          const res = await call(route.base, route.method, path, authA, b, malformed ? JSON.stringify(b).slice(0, -1) + '\u0000{' : undefined);
          c.messages++;
          const line = `${route.method} ${path}: ${res.status} ${res.text.slice(0, 300)}`;
          if (res.status >= 500) (KNOWN_5XX.some((k) => k.test(`${route.method} ${path}`)) ? known : problems).push(line);
          if (leaks(res.text).length) problems.push(`${route.method} ${path}: leak`);
        }),
        { numRuns: 3_000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: false },
      );
      const after = await tenantFingerprint(env.database, B);
      const changed = Object.keys(before).filter((t) => before[t] !== after[t]);
      c.lost = problems.length + changed.length;
      c.notes = `${c.messages} generated requests over ${routes.length} routes; problems ${problems.length}; known (reported) 5xx ${known.length}${known.length ? `: ${known[0].slice(0, 120)}` : ''}`;
      expect([...new Set(problems)].slice(0, 20)).toEqual([]);
      expect(changed).toEqual([]);
    });
  }, 600_000);
});
