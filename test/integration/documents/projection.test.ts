import { DocumentsHarness } from './harness.js';

/** The projection under out-of-order and repeated delivery, and the tenant-scoped HTTP API. */
describe('document projection and API', () => {
  const h = new DocumentsHarness();
  beforeAll(async () => {
    await h.start();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  const row = async (companyId: string, id: string) =>
    (await h.database.query<{ title: string; version: string; deleted: boolean; expires_at: Date }>('SELECT title, version, deleted, expires_at FROM documents WHERE company_id = $1 AND id = $2', [companyId, id]))[0];
  const settle = async () => {
    // Every published event has been handled once the consumer has nothing pending.
    const { waitFor } = await import('../../support/wait.js');
    await waitFor(async () => {
      const info = await h.jsm.consumers.info('EVENTS', 'documents-events');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: 'documents-events drained' });
  };
  const send = (type: string, data: Record<string, unknown>) => h.publisher.publishEvent(type, data.companyId as string, data);

  it('never lets an older upsert overwrite a newer one', async () => {
    await send('document.upserted', { id: 'd1', companyId: 'ooo', title: 'v3', version: 3, expiresAt: '2025-09-01T00:00:00Z' });
    await h.waitForVersion('ooo', 'd1', 3);
    await send('document.upserted', { id: 'd1', companyId: 'ooo', title: 'v1', version: 1, expiresAt: '2025-07-01T00:00:00Z' });
    await send('document.upserted', { id: 'd1', companyId: 'ooo', title: 'v2', version: 2, expiresAt: '2025-08-01T00:00:00Z' });
    await send('document.upserted', { id: 'd1', companyId: 'ooo', title: 'v3 again', version: 3, expiresAt: '2025-07-01T00:00:00Z' });
    await settle();
    expect(await row('ooo', 'd1')).toMatchObject({ title: 'v3', version: '3', deleted: false, expires_at: new Date('2025-09-01T00:00:00Z') });
  });

  it('keeps a delete as a tombstone that an older upsert cannot resurrect, and a newer one can', async () => {
    await send('document.upserted', { id: 'd2', companyId: 'ooo', title: 'v1', version: 1, expiresAt: '2025-06-10T00:00:00Z' });
    await send('document.deleted', { id: 'd2', companyId: 'ooo', version: 5 });
    await send('document.upserted', { id: 'd2', companyId: 'ooo', title: 'v4', version: 4, expiresAt: '2025-06-10T00:00:00Z' });
    await settle();
    expect(await row('ooo', 'd2')).toMatchObject({ deleted: true, version: '5' });
    expect((await h.scan('ooo', '2025-06-08T00:00:00Z')).expiring).toBe(0);
    expect((await h.http('GET', '/api/v1/documents/d2', { companyId: 'ooo' })).status).toBe(404);

    // A delete that arrives before the document was ever seen is a tombstone too.
    await send('document.deleted', { id: 'd3', companyId: 'ooo', occurredAt: '2025-06-01T10:00:00Z' });
    await send('document.upserted', { id: 'd3', companyId: 'ooo', title: 'early', occurredAt: '2025-06-01T09:00:00Z', expiresAt: '2025-06-10T00:00:00Z' });
    await settle();
    expect(await row('ooo', 'd3')).toMatchObject({ deleted: true });

    await send('document.upserted', { id: 'd2', companyId: 'ooo', title: 're-created', version: 6, expiresAt: '2025-06-10T00:00:00Z' });
    await h.waitForVersion('ooo', 'd2', 6);
    expect(await row('ooo', 'd2')).toMatchObject({ deleted: false, title: 're-created' });
  });

  it('lists a tenant\'s documents by expiry window with a keyset cursor', async () => {
    for (let i = 0; i < 7; i++) await send('document.upserted', { id: `p${i}`, companyId: 'pages', version: 1, expiresAt: `2025-07-0${1 + (i % 3)}T00:00:00Z` });
    await send('document.upserted', { id: 'far', companyId: 'pages', version: 1, expiresAt: '2026-01-01T00:00:00Z' });
    await send('document.upserted', { id: 'p0', companyId: 'other', version: 1, expiresAt: '2025-07-01T00:00:00Z' });
    await settle();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `from=2025-06-30T00:00:00Z&to=2025-12-31T00:00:00Z&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await h.http('GET', `/api/v1/documents?${q}`, { companyId: 'pages' });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((d: { id: string; expiresAt: string }) => `${d.expiresAt.slice(0, 10)}/${d.id}`));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['2025-07-01/p0', '2025-07-01/p3', '2025-07-01/p6', '2025-07-02/p1', '2025-07-02/p4', '2025-07-03/p2', '2025-07-03/p5']);
  });

  it('answers errors as RFC 9457 problem+json', async () => {
    const noTenant = await h.http('GET', '/api/v1/documents');
    expect(noTenant.status).toBe(401);
    expect(noTenant.type).toContain('application/problem+json');
    expect(noTenant.body).toMatchObject({ type: 'https://metronome.dev/problems/unauthorized', title: 'Unauthorized', status: 401, instance: '/api/v1/documents' });

    const missing = await h.http('GET', '/api/v1/documents/nope', { companyId: 'pages' });
    expect(missing).toMatchObject({ status: 404, body: { type: 'https://metronome.dev/problems/document-not-found', documentId: 'nope' } });
    // Another tenant's document is "not found", not "forbidden".
    expect((await h.http('GET', '/api/v1/documents/p1', { companyId: 'other' })).status).toBe(404);
    expect((await h.http('POST', '/api/v1/documents/p1/acknowledge', { companyId: 'other' })).status).toBe(404);

    const bad = await h.http('GET', '/api/v1/documents?from=yesterday&limit=9000', { companyId: 'pages' });
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['from', 'limit']);

    const window = await h.http('GET', '/api/v1/documents?from=2025-07-02T00:00:00Z&to=2025-07-01T00:00:00Z', { companyId: 'pages' });
    expect(window.body).toMatchObject({ status: 400, type: 'https://metronome.dev/problems/invalid-window' });
    expect((await h.http('GET', '/api/v1/documents?cursor=garbage', { companyId: 'pages' })).body.type).toBe('https://metronome.dev/problems/invalid-cursor');
  });

  it('gets and puts tenant settings, validating every field; the timezone is the tenant registry\'s', async () => {
    const defaults = await h.http('GET', '/api/v1/expiry-settings', { companyId: 'cfg' });
    expect(defaults.body).toMatchObject({ companyId: 'cfg', timezone: 'UTC', scanHour: 8, thresholds: [30, 14, 7, 1], typeOverrides: {}, escalationChain: [], updatedAt: null });

    const put = await h.http('PUT', '/api/v1/expiry-settings', {
      companyId: 'cfg',
      body: { scanHour: 6, thresholds: [7, 60, 30], typeOverrides: { passport: [90, 180] }, escalationChain: ['manager', 'owner'], escalationAfterDays: 5 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ timezone: 'UTC', scanHour: 6, thresholds: [60, 30, 7], typeOverrides: { passport: [180, 90] }, escalationChain: ['manager', 'owner'], escalationAfterDays: 5 });
    await h.tenant('cfg', 'Europe/Berlin');
    expect((await h.http('GET', '/api/v1/expiry-settings', { companyId: 'cfg' })).body).toMatchObject({ timezone: 'Europe/Berlin', thresholds: [60, 30, 7] });
    expect((await h.http('GET', '/api/v1/expiry-settings', { companyId: 'cfg2' })).body.timezone).toBe('UTC');

    const bad = await h.http('PUT', '/api/v1/expiry-settings', {
      companyId: 'cfg',
      body: { timezone: 'Europe/Berlin', scanHour: 24, thresholds: [0, 7, 7], typeOverrides: { x: 'soon' }, escalationChain: ['bad role'], escalationAfterDays: 0, extra: true },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['escalationAfterDays', 'escalationChain', 'extra', 'scanHour', 'thresholds', 'timezone', 'typeOverrides']);
    expect(bad.body.errors.find((e: { field: string }) => e.field === 'timezone').messages[0]).toMatch(/tenant registry \(PATCH \/api\/v1\/tenants\/\{companyId\}/);
  });

  // Last: on nats-server 2.9 the transport's term(reason) is not understood, so the
  // dead-lettered message stays ack-pending and would stall settle() in later tests.
  it('dead-letters an event whose payload names another tenant than its subject', async () => {
    const sent = await h.publisher.publishEvent('document.upserted', 'tenant-a', { id: 'x', companyId: 'tenant-b', version: 1 });
    const { waitFor } = await import('../../support/wait.js');
    const dead = await waitFor(async () => (await h.database.query('SELECT reason FROM dead_letters WHERE id = $1', [sent.id]))[0], { what: 'dead letter' });
    expect(dead.reason).toBe('permanent_error');
    expect(await row('tenant-b', 'x')).toBeUndefined();
  });
});
