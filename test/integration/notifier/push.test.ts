import { EVENT_TYPES } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { NotifierHarness } from './harness.js';
import { TestBrowser, TestPushService, vapidKeys } from './push-service.js';

/** Quiet hours around "now" in UTC: started an hour ago, end in two. */
function quietNow(): { start: string; end: string } {
  const hm = (offsetMin: number) => new Date(Date.now() + offsetMin * 60_000).toISOString().slice(11, 16);
  return { start: hm(-60), end: hm(120) };
}

/**
 * The Web Push channel against a push service on loopback that checks VAPID and
 * a browser that decrypts (RFC 8291) what it receives; real NATS, Postgres, SMTP.
 */
describe('notifier: Web Push', () => {
  const keys = vapidKeys();
  const subject = 'mailto:ops@metronome.test';
  const h = new NotifierHarness();
  const push = new TestPushService(keys.publicKey, subject);

  beforeAll(async () => {
    await push.start();
    await h.start({ PUSH_VAPID_PUBLIC_KEY: keys.publicKey, PUSH_VAPID_PRIVATE_KEY: keys.privateKey, PUSH_VAPID_SUBJECT: subject });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
    await push.stop();
  }, 60_000);

  const register = async (companyId: string, userId: string, browser: TestBrowser) => {
    const res = await h.http('POST', '/api/v1/push/subscriptions', { companyId, userId, body: browser.subscription() });
    expect(res.status).toBe(201);
    return res.body as { id: string; endpointOrigin: string };
  };
  const pushDeliveries = async (companyId: string) => (await h.deliveries(companyId)).filter((d) => d.channel === 'push');

  it('serves the VAPID public key, and registers, lists and unregisters only the caller\'s own subscriptions', async () => {
    expect((await h.http('GET', '/api/v1/push/vapid-public-key', { companyId: 'api', userId: 'u1' })).body).toEqual({ publicKey: keys.publicKey });
    const bad = await h.http('POST', '/api/v1/push/subscriptions', {
      companyId: 'api',
      userId: 'u1',
      body: { endpoint: 'ftp://push.example/x', keys: { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: 'c2hvcnQ' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['endpoint', 'keys.auth', 'keys.p256dh']);

    const browser = new TestBrowser(push.endpoint('api-u1'));
    const first = await register('api', 'u1', browser);
    expect(first.endpointOrigin).toBe(push.origin);
    expect((await register('api', 'u1', browser)).id).toBe(first.id);
    expect((await h.http('GET', '/api/v1/push/subscriptions', { companyId: 'api', userId: 'u1' })).body.items.map((s: { id: string }) => s.id)).toEqual([first.id]);
    expect((await h.http('GET', '/api/v1/push/subscriptions', { companyId: 'api', userId: 'u2' })).body.items).toEqual([]);
    expect((await h.http('GET', '/api/v1/push/subscriptions', { companyId: 'other', userId: 'u1' })).body.items).toEqual([]);
    const foreign = await h.http('DELETE', `/api/v1/push/subscriptions/${first.id}`, { companyId: 'api', userId: 'u2' });
    expect([foreign.status, foreign.body.type]).toEqual([404, 'https://metronome.dev/problems/push-subscription-not-found']);
    expect((await h.http('DELETE', `/api/v1/push/subscriptions/${first.id}`, { companyId: 'api', userId: 'u1' })).status).toBe(204);
    expect((await h.http('GET', '/api/v1/push/subscriptions', { companyId: 'api', userId: 'u1' })).body.items).toEqual([]);
  });

  it('pushes each notification to every browser of its recipient, encrypted for it and signed with VAPID, beside in-app and email', async () => {
    await h.member('acme', { userId: 'alice', roles: ['safety'], email: 'alice@acme.test' });
    const laptop = new TestBrowser(push.endpoint('alice-laptop'));
    const phone = new TestBrowser(push.endpoint('alice-phone'));
    const a = await register('acme', 'alice', laptop);
    const b = await register('acme', 'alice', phone);
    await h.event(EVENT_TYPES.taskAssigned, 'acme', { taskId: 't-1', title: 'Inspect ladder', assigneeUserId: 'alice' }, 'evt-push-1');
    await waitFor(() => push.to('alice-laptop').length === 1 && push.to('alice-phone').length === 1, { what: 'push to both browsers' });
    const notification = (await h.notifications('acme', 'alice')).find((n) => n.source_event_id === 'evt-push-1')!;
    for (const [browser, id] of [[laptop, 'alice-laptop'], [phone, 'alice-phone']] as const) {
      const got = push.to(id)[0];
      expect(got.headers['content-encoding']).toBe('aes128gcm');
      expect(got.headers.ttl).toBe('86400');
      expect(got.headers.urgency).toBe('normal');
      expect(JSON.parse(browser.decrypt(got.body))).toEqual({
        id: notification.id,
        type: 'task.assigned',
        title: 'New task: Inspect ladder',
        body: 'You were assigned "Inspect ladder".',
        critical: false,
        createdAt: expect.any(String),
      });
    }
    // The other browser cannot read it.
    expect(() => phone.decrypt(push.to('alice-laptop')[0].body)).toThrow();
    await waitFor(() => h.smtp.to('alice@acme.test').some((m) => m.subject === 'New task: Inspect ladder'), { what: 'the email too' });
    await waitFor(async () => (await pushDeliveries('acme')).filter((d) => d.outcome === 'sent').length === 2, { what: 'push deliveries recorded' });
    expect((await pushDeliveries('acme')).map((d) => d.target).sort()).toEqual([a.id, b.id].sort());
    // A critical notification is urgent.
    await h.event(EVENT_TYPES.documentExpired, 'acme', { id: 'd-1', companyId: 'acme', title: 'Fire certificate', owner: 'alice', expiresAt: '2030-01-01T00:00:00Z' }, 'evt-push-2');
    await waitFor(() => push.to('alice-phone').length === 2, { what: 'critical push' });
    expect(push.to('alice-phone')[1].headers.urgency).toBe('high');
    expect(JSON.parse(phone.decrypt(push.to('alice-phone')[1].body))).toMatchObject({ title: 'Document expired: Fire certificate', critical: true });
  });

  it('honours opt-outs and quiet hours on the push channel', async () => {
    await h.member('prefs', { userId: 'muted', roles: ['x'], email: 'muted@prefs.test', preferences: { optOut: [{ type: 'task.assigned', channel: 'push' }] } });
    await register('prefs', 'muted', new TestBrowser(push.endpoint('muted')));
    await h.event(EVENT_TYPES.taskAssigned, 'prefs', { taskId: 't-m', title: 'Quiet task', assigneeUserId: 'muted' }, 'evt-push-optout');
    await waitFor(() => h.smtp.to('muted@prefs.test').length === 1, { what: 'the email still goes' });
    await waitFor(async () => (await pushDeliveries('prefs')).some((d) => d.outcome === 'skipped'), { what: 'push skipped' });
    expect(push.to('muted')).toEqual([]);

    await h.member('prefs', { userId: 'sleeper', roles: ['x'], timezone: 'UTC', quietHours: quietNow() });
    await register('prefs', 'sleeper', new TestBrowser(push.endpoint('sleeper')));
    await h.event(EVENT_TYPES.taskAssigned, 'prefs', { taskId: 't-s', title: 'Night task', assigneeUserId: 'sleeper' }, 'evt-push-quiet');
    await waitFor(async () => (await pushDeliveries('prefs')).filter((d) => d.outcome === 'deferred').length >= 2, { what: 'deferred (re-checked)' });
    expect(push.to('sleeper')).toEqual([]);
    await h.member('prefs', { userId: 'sleeper', roles: ['x'], timezone: 'UTC', quietHours: { start: '00:00', end: '00:00' } });
    await waitFor(() => push.to('sleeper').length === 1, { what: 'pushed once the quiet hours end', timeoutMs: 15_000 });
  }, 40_000);

  it('drops a subscription the push service says is gone (410) without retrying it, and retries a 503', async () => {
    await h.member('gone', { userId: 'u', roles: ['x'] });
    const stale = await register('gone', 'u', new TestBrowser(push.endpoint('stale')));
    const flaky = new TestBrowser(push.endpoint('flaky'));
    await register('gone', 'u', flaky);
    push.script.set('stale', [410]);
    push.script.set('flaky', [503]);
    await h.event(EVENT_TYPES.notificationRequested, 'gone', { title: 'Hello', userIds: ['u'] }, 'evt-push-gone');
    await waitFor(() => push.to('flaky').length === 1, { what: 'flaky browser reached after the retry', timeoutMs: 20_000 });
    expect(JSON.parse(flaky.decrypt(push.to('flaky')[0].body)).title).toBe('Hello');
    // The delivery is recorded after the push service answered: wait for the row, not only for the push.
    const rows = (await waitFor(async () => {
      const r = await pushDeliveries('gone');
      return r.some((d) => d.target !== stale.id && d.outcome === 'sent') ? r : undefined;
    }, { what: 'the sent push recorded' }))!;
    expect(rows.filter((d) => d.target === stale.id).map((d) => [d.outcome, d.status_code])).toEqual([['failed', 410]]);
    expect(rows.filter((d) => d.target !== stale.id).map((d) => d.outcome)).toEqual(['retry', 'sent']);
    expect((await h.http('GET', '/api/v1/push/subscriptions', { companyId: 'gone', userId: 'u' })).body.items.map((s: { id: string }) => s.id)).not.toContain(stale.id);
    // The stale endpoint was asked once: the retry went only to the browser that failed.
    expect(push.received.filter((r) => r.path === '/push/stale')).toHaveLength(1);
    await sleep(500);
    expect(push.to('flaky')).toHaveLength(1);
  }, 40_000);
});
