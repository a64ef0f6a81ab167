import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createCloudEvent, encodeCloudEvent, EVENT_TYPES, subjects } from '../../../libs/common/src/index.js';
import { sha256Hex } from '../../../libs/common/src/config/api-keys.js';
import { testToken, type TestRole } from '../../support/auth.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';
import { httpCall } from '../../support/http.js';

/**
 * `npm start` as a newcomer runs it (the built all-in-one process, DEMO=true, no JWT_SECRET): one token in a
 * 0600 file works on all four APIs; tokens and API keys are checked the same way by every service; a user
 * token reaches only its own notifications, over the list API and over SSE with the Authorization header;
 * SSE streams are capped and end with their token; every list refuses a page over its maximum.
 */
const A = 'acme';
const B = 'globex';
const ACME_KEY = 'acme-integration-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'metronome-identity-'));
const nats = new TestNatsServer();
const database = new TestDatabase();
const ports = { scheduler: 0, notifier: 0, documents: 0, recurrence: 0 };
let app: ServiceProcess;
let nc: NatsConnection;
let demoToken = '';
let secret = '';

const base = (service: keyof typeof ports) => `http://127.0.0.1:${ports[service]}`;
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const tokenOf = (role: TestRole, companyId?: string, sub?: string, expSeconds?: number) => testToken(role, companyId, { secret, sub, expSeconds });

const call = (service: keyof typeof ports, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
  httpCall(`${base(service)}${path}`, method, headers, body);

/** An open SSE stream read through fetch (what a browser does with an Authorization header). */
async function openStream(headers: Record<string, string>, query = '') {
  const controller = new AbortController();
  const res = await fetch(`${base('notifier')}/api/v1/notifications/stream${query}`, { headers, signal: controller.signal });
  let text = '';
  let ended = false;
  if (res.ok && res.body) {
    const reader = res.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString('utf8');
        }
      } catch {
        /* aborted */
      }
      ended = true;
    })();
  }
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    body: (res.ok ? null : await res.json()) as any,
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    close: () => controller.abort(),
  };
}

beforeAll(async () => {
  await Promise.all([nats.start(), database.create()]);
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  app = new ServiceProcess('apps/main.js', {
    NATS_URLS: nats.url,
    DATABASE_URL: database.url,
    SCHEDULER_PORT: String(ports.scheduler),
    NOTIFIER_PORT: String(ports.notifier),
    DOCUMENTS_PORT: String(ports.documents),
    RECURRENCE_PORT: String(ports.recurrence),
    DEMO: 'true',
    DEMO_TOKEN_FILE: join(dir, 'demo-token'),
    API_KEYS: `acme=sha256:${sha256Hex(ACME_KEY)};company=${A}`,
    TICK_INTERVAL_MS: '3600000',
    SSE_MAX_PER_USER: '2',
    SSE_MAX_PER_PROCESS: '5',
    API_RATE_LIMIT_BURST: '100000',
    API_RATE_LIMIT_PER_SECOND: '100000',
    SMTP_URL: 'smtp://127.0.0.1:9',
  }).start();
  await app.waitForLog('scheduler started', 90_000);
  await app.waitForLog('demo tenants seeded', 30_000);
  demoToken = readFileSync(join(dir, 'demo-token'), 'utf8').trim();
  secret = readFileSync(join(dir, 'demo-jwt-secret'), 'utf8').trim();
  nc = await connect({ servers: nats.url });
}, 150_000);

afterAll(async () => {
  await app?.stop();
  await nc?.close();
  await nats.destroy();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('one identity for all four services', () => {
  it('npm start leaves one token in a 0600 file, never in the logs, and it works on all four APIs', async () => {
    expect(statSync(join(dir, 'demo-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'demo-jwt-secret')).mode & 0o777).toBe(0o600);
    expect(demoToken.split('.')).toHaveLength(3);
    expect(app.text).not.toContain(demoToken);
    expect(app.text).not.toContain(secret);
    expect(app.text).toContain(join(dir, 'demo-token'));
    const asAcme = { ...bearer(demoToken), 'X-Act-For-Company': A };
    expect((await call('scheduler', 'GET', '/api/v1/queues', bearer(demoToken))).status).toBe(200);
    const docs = await waitFor(async () => {
      const r = await call('documents', 'GET', '/api/v1/documents', asAcme);
      return r.status === 200 && r.json.items.length > 0 ? r.json.items : undefined;
    }, { what: 'acme documents projected' });
    expect(docs!.every((d: { id: string }) => d.id.startsWith('acme-'))).toBe(true);
    // The demo seeder made these through the recurrence API with a token of its own.
    const templates = await call('recurrence', 'GET', '/api/v1/task-templates', asAcme);
    expect(templates.json.items.map((t: { title: string }) => t.title)).toContain('Weekly site inspection');
    // A public address literal: the notifier checks a host name's addresses with DNS, which a CI machine may not have.
    const HOOK = 'https://93.184.215.14/metronome';
    const hook = await call('notifier', 'PUT', '/api/v1/webhooks', asAcme, { url: HOOK, secret: 'demo-webhook-secret-0123', enabled: false });
    expect(hook.status).toBe(200);
    expect((await call('notifier', 'GET', '/api/v1/webhooks', asAcme)).json).toMatchObject({ url: HOOK, enabled: false });
    // A platform token on a route about one tenant must say which.
    const unnamed = await call('documents', 'GET', '/api/v1/documents', bearer(demoToken));
    expect(unnamed.status).toBe(400);
    expect(unnamed.json).toMatchObject({ type: 'https://metronome.dev/problems/tenant-required', status: 400 });
    // The secret that signed demo tokens before is published in old releases: worthless now.
    const old = await testToken('system-admin', undefined, { secret: 'metronome-demo-secret-do-not-use-in-production' });
    expect((await call('scheduler', 'GET', '/api/v1/queues', bearer(old))).status).toBe(401);
  });

  it("a tenant token works on every service for its own tenant only, whatever tenant headers it sends", async () => {
    const auth = { ...bearer(await tokenOf('tenant-admin', A, 'acme-ana')), 'X-Company-Id': B, 'X-User-Id': 'globex-ana' };
    const runs = await call('scheduler', 'GET', `/api/v1/runs?companyId=${B}`, auth);
    expect(runs).toMatchObject({ status: 200, json: { items: [] } });
    const docs = await call('documents', 'GET', '/api/v1/documents?limit=500', auth);
    expect(docs.status).toBe(200);
    expect(docs.json.items.length).toBeGreaterThan(0);
    expect(docs.json.items.every((d: { id: string }) => d.id.startsWith('acme-'))).toBe(true);
    const events = await call('recurrence', 'GET', '/api/v1/calendar-events', auth);
    expect(events.status).toBe(200);
    expect(events.json.items.every((e: { companyId: string }) => e.companyId === A)).toBe(true);
    expect((await call('notifier', 'GET', '/api/v1/notifications', auth)).status).toBe(200);
    // Naming another tenant to act for is refused, on every service.
    for (const [service, path] of [['scheduler', '/api/v1/runs'], ['documents', '/api/v1/documents'], ['recurrence', '/api/v1/task-templates'], ['notifier', '/api/v1/notifications']] as const) {
      const res = await call(service, 'GET', path, { ...auth, 'X-Act-For-Company': B });
      expect({ service, status: res.status, type: res.json?.type }).toEqual({ service, status: 403, type: 'https://metronome.dev/problems/forbidden' });
    }
    // A viewer reads but does not change.
    const viewer = bearer(await tokenOf('viewer', A));
    expect((await call('documents', 'GET', '/api/v1/expiry-settings', viewer)).status).toBe(200);
    expect((await call('documents', 'PUT', '/api/v1/expiry-settings', viewer, { timezone: 'UTC', thresholds: [7] })).status).toBe(403);
  });

  it('an API key bound to a tenant sees that tenant only and cannot act for another', async () => {
    const key = { 'X-Api-Key': ACME_KEY };
    const docs = await call('documents', 'GET', '/api/v1/documents?limit=500', key);
    expect(docs.status).toBe(200);
    expect(docs.json.items.every((d: { id: string }) => d.id.startsWith('acme-'))).toBe(true);
    expect((await call('documents', 'GET', `/api/v1/documents/${B}-doc-1`, key)).status).toBe(404);
    expect((await call('documents', 'GET', '/api/v1/documents', { ...key, 'X-Act-For-Company': B })).status).toBe(403);
    expect((await call('scheduler', 'GET', `/api/v1/runs?companyId=${B}`, key)).json).toMatchObject({ items: [] });
    expect((await call('scheduler', 'POST', '/api/v1/queues/low/pause', key, {})).status).toBe(403);
  });

  it('a user token reads and marks only its own notifications, and nothing else', async () => {
    const ids = { anaAcme: randomUUID(), benAcme: randomUUID(), anaGlobex: randomUUID() };
    for (const [id, company, user] of [[ids.anaAcme, A, 'ana'], [ids.benAcme, A, 'ben'], [ids.anaGlobex, B, 'ana']]) {
      await database.query(
        `INSERT INTO notifications (id, company_id, user_id, source_event_id, type, title, body) VALUES ($1::uuid, $2, $3, $1::text, 'document.expiring', $4, $4)`,
        [id, company, user, `for ${company}/${user}`],
      );
    }
    const ana = { ...bearer(await tokenOf('user', A, 'ana')), 'X-User-Id': 'ben', 'X-Company-Id': B };
    const list = await call('notifier', 'GET', '/api/v1/notifications', ana);
    expect(list.status).toBe(200);
    expect(list.json.items.map((n: { id: string }) => n.id)).toEqual([ids.anaAcme]);
    expect((await call('notifier', 'GET', '/api/v1/notifications/unread-count', ana)).json).toEqual({ unread: 1 });
    expect((await call('notifier', 'POST', `/api/v1/notifications/${ids.benAcme}/read`, ana)).json).toEqual({ id: ids.benAcme, marked: 0 });
    expect((await call('notifier', 'POST', '/api/v1/notifications/read', ana, { ids: [ids.benAcme, ids.anaGlobex] })).json).toEqual({ marked: 0 });
    const unread = await database.query<{ id: string }>('SELECT id FROM notifications WHERE read_at IS NULL AND id = ANY($1::uuid[])', [[ids.benAcme, ids.anaGlobex]]);
    expect(unread).toHaveLength(2);
    expect((await call('notifier', 'POST', `/api/v1/notifications/${ids.anaAcme}/read`, ana)).json).toEqual({ id: ids.anaAcme, marked: 1 });
    // The user role reaches its inbox only.
    for (const [service, path] of [['scheduler', '/api/v1/runs'], ['documents', '/api/v1/documents'], ['recurrence', '/api/v1/task-templates'], ['notifier', '/api/v1/webhooks']] as const) {
      expect({ service, status: (await call(service, 'GET', path, ana)).status }).toEqual({ service, status: 403 });
    }
    // A platform credential has no inbox: notifications belong to one user.
    const admin = await call('notifier', 'GET', '/api/v1/notifications', { ...bearer(demoToken), 'X-Act-For-Company': A });
    expect(admin.status).toBe(403);
    expect(admin.json.detail).toMatch(/user token/);
  });

  it('streams notifications over SSE to the Authorization header, never to a token in the URL', async () => {
    const token = await tokenOf('user', A, 'acme-ana');
    const anonymous = await openStream({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/^application\/problem\+json/);
    const inUrl = await openStream({}, `?access_token=${token}&token=${token}`);
    expect(inUrl.status).toBe(401);
    const stream = await openStream(bearer(token));
    try {
      expect(stream.status).toBe(200);
      expect(stream.type).toContain('text/event-stream');
      const js = jetstream(nc);
      const send = async (companyId: string, title: string, userIds: string[]) => {
        const e = createCloudEvent({ type: EVENT_TYPES.notificationRequested, source: 'test', companyId, data: { title, userIds } });
        await js.publish(subjects.event(companyId, EVENT_TYPES.notificationRequested), encodeCloudEvent(e), { msgID: e.id });
      };
      await send(B, 'Globex secret for ana', ['acme-ana']);
      await send(A, 'For ben only', ['acme-ben']);
      await send(A, 'Hello ana', ['acme-ana']);
      await waitFor(() => stream.text.includes('Hello ana'), { what: 'notification on the stream' });
      expect(stream.text).not.toContain('Globex secret');
      expect(stream.text).not.toContain('For ben only');
    } finally {
      stream.close();
    }
  });

  it('caps SSE streams per user and per process with 429 problem+json, and frees a slot when a stream closes', async () => {
    const ana = bearer(await tokenOf('user', A, 'cap-ana'));
    const first = await openStream(ana);
    const second = await openStream(ana);
    const open = [first, second];
    try {
      expect([first.status, second.status]).toEqual([200, 200]);
      const third = await openStream(ana);
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ type: 'https://metronome.dev/problems/rate-limited', status: 429 });
      expect(third.body.detail).toMatch(/per user/);
      expect(Number(third.retryAfter)).toBeGreaterThan(0);
      first.close();
      const again = await waitFor(async () => {
        const s = await openStream(ana);
        if (s.status === 200) return s;
        return undefined;
      }, { what: 'a slot freed by the closed stream' });
      open.push(again!);
      // Five per process: ana holds 2, ben 2, cem 1; dan is refused by the process cap.
      for (const user of ['cap-ben', 'cap-ben', 'cap-cem']) {
        const s = await openStream(bearer(await tokenOf('user', A, user)));
        open.push(s);
        expect(s.status).toBe(200);
      }
      const dan = await openStream(bearer(await tokenOf('user', A, 'cap-dan')));
      expect(dan.status).toBe(429);
      expect(dan.body.detail).toMatch(/as many notification streams/);
    } finally {
      for (const s of open) s.close();
    }
  });

  it('ends a stream when its token expires', async () => {
    const stream = await openStream(bearer(await tokenOf('user', A, 'short-lived', 2)));
    try {
      expect(stream.status).toBe(200);
      await waitFor(() => stream.ended, { what: 'stream ended at the token expiry', timeoutMs: 10_000 });
    } finally {
      stream.close();
    }
  });

  it('pages every list endpoint: a limit over the maximum is a 400 problem', async () => {
    const auth = bearer(await tokenOf('tenant-admin', A));
    const lists: [keyof typeof ports, string, number][] = [
      ['scheduler', '/api/v1/jobs', 500], ['scheduler', '/api/v1/runs', 500], ['scheduler', '/api/v1/dlq', 500], ['scheduler', '/api/v1/schedules', 500], ['scheduler', '/api/v1/audit', 500],
      ['documents', '/api/v1/documents', 500], ['notifier', '/api/v1/notifications', 200],
      ['recurrence', '/api/v1/task-templates', 500], ['recurrence', '/api/v1/task-instances', 500], ['recurrence', '/api/v1/calendar-events', 500],
    ];
    for (const [service, path, max] of lists) {
      const ok = await call(service, 'GET', `${path}?limit=${max}`, auth);
      const over = await call(service, 'GET', `${path}?limit=${max + 1}`, auth);
      expect({ path, ok: ok.status, over: over.status, type: over.type.split(';')[0] }).toEqual({ path, ok: 200, over: 400, type: 'application/problem+json' });
      expect(Array.isArray(ok.json.items)).toBe(true);
      expect(ok.json).toHaveProperty('nextCursor');
    }
    // Schedules come a page at a time by name.
    const admin = { ...bearer(demoToken) };
    const page1 = await call('scheduler', 'GET', '/api/v1/schedules?limit=1', admin);
    expect(page1.json.items).toHaveLength(1);
    const page2 = await call('scheduler', 'GET', `/api/v1/schedules?limit=1&cursor=${page1.json.nextCursor}`, admin);
    expect(page2.json.items[0].name > page1.json.items[0].name).toBe(true);
  });
});
