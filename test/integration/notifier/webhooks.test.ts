import { EVENT_TYPES } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { NotifierHarness, verifySignature } from './harness.js';

const SECRET = 'whsec_0123456789abcdef';

/** Tenant webhooks: signed, retried after a 5xx, dead-lettered after a 4xx, every attempt recorded. */
describe('notifier: webhooks', () => {
  const h = new NotifierHarness();
  beforeAll(async () => {
    await h.start();
    await h.member('hooks', { userId: 'ops', roles: ['safety'] });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  it('validates the webhook config as problem+json and keeps the secret write-only', async () => {
    const bad = await h.http('PUT', '/api/v1/webhooks', { companyId: 'hooks', body: { url: 'ftp://nope', secret: 'short' } });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    const ok = await h.http('PUT', '/api/v1/webhooks', { companyId: 'hooks', body: { url: h.receiver.url, secret: SECRET } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ url: h.receiver.url, types: [], enabled: true });
    expect(JSON.stringify(ok.body)).not.toContain(SECRET);
    expect((await h.http('GET', '/api/v1/webhooks', { companyId: 'other' })).status).toBe(404);
  });

  it('signs each delivery with HMAC-SHA256 over "<t>.<body>" that the receiver can verify', async () => {
    await h.event(EVENT_TYPES.documentExpired, 'hooks', { id: 'doc-9', companyId: 'hooks', title: 'Boiler certificate', responsibleRole: 'safety', expiresAt: '2030-01-01T00:00:00Z' }, 'evt-hook-1');
    const req = (await waitFor(() => h.receiver.requests.find((r) => r.body.includes('evt-hook-1')), { what: 'webhook call' }))!;
    const header = req.headers['metronome-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, req.body, SECRET)).toBe(true);
    expect(verifySignature(header, req.body, 'another-secret-value')).toBe(false);
    expect(verifySignature(header, req.body.replace('Boiler', 'Bo1ler'), SECRET)).toBe(false);
    expect(JSON.parse(req.body)).toMatchObject({ id: 'evt-hook-1', type: 'document.expired', companyId: 'hooks', recipients: ['ops'], data: { id: 'doc-9' } });
  });

  it('retries after a 500 with backoff and records each attempt', async () => {
    h.receiver.script = [500];
    await h.event(EVENT_TYPES.notificationRequested, 'hooks', { title: 'Retry me', roles: ['safety'] }, 'evt-hook-500');
    await waitFor(() => h.receiver.requests.filter((r) => r.body.includes('evt-hook-500')).length === 2, { what: 'second attempt', timeoutMs: 30_000 });
    const calls = h.receiver.requests.filter((r) => r.body.includes('evt-hook-500'));
    expect(calls.map((c) => c.status)).toEqual([500, 200]);
    await waitFor(async () => (await h.deliveries('hooks')).filter((d) => d.channel === 'webhook' && d.outcome === 'sent').length === 2, { what: 'recorded' });
    const attempts = (await h.deliveries('hooks')).filter((d) => d.outcome === 'retry');
    expect(attempts).toEqual([expect.objectContaining({ outcome: 'retry', status_code: 500, attempt: 1 })]);
  }, 40_000);

  it('dead-letters at once on a 4xx (not 429)', async () => {
    h.receiver.script = [410];
    await h.event(EVENT_TYPES.notificationRequested, 'hooks', { title: 'Gone', roles: ['safety'] }, 'evt-hook-410');
    await waitFor(async () => (await h.deliveries('hooks')).some((d) => d.status_code === 410 && d.outcome === 'failed'), { what: 'failed delivery' });
    await waitFor(async () => (await h.database.query('SELECT 1 FROM dead_letters WHERE message_type = $1', ['notifier.deliver'])).length === 1, { what: 'dead letter', timeoutMs: 10_000 });
    expect(h.receiver.requests.filter((r) => r.body.includes('evt-hook-410'))).toHaveLength(1);
  });
});
