import { DocumentsHarness } from './harness.js';

/** Escalation of unacknowledged alerts along the tenant's role chain, counted in days from the alert. */
describe('document alert escalation', () => {
  const h = new DocumentsHarness();
  beforeAll(async () => {
    await h.start();
    await h.putSettings('esc', { escalationChain: ['manager', 'director', 'ceo'], escalationAfterDays: 2 });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  const escalations = async (companyId: string, id?: string) =>
    (await h.stored('document.escalated', companyId)).filter((e) => !id || e.data.id === id).map((e) => `${e.data.id}:L${e.data.level}:${e.data.role}`);

  it('escalates one level per period without acknowledgement, then stops at the end of the chain', async () => {
    await h.upsert('esc', { id: 'ins', expiresAt: '2025-07-01T12:00:00Z' });
    const alerted = await h.scan('esc', '2025-06-01T08:00:00Z'); // 30 days left
    expect(alerted.expiring).toBe(1);

    expect(await h.scan('esc', '2025-06-03T07:59:59Z')).toMatchObject({ escalated: 0 }); // 1 s short of 2 days
    expect(await h.scan('esc', '2025-06-03T08:00:00Z')).toMatchObject({ escalated: 1 });
    expect(await escalations('esc', 'ins')).toEqual(['ins:L1:manager']);
    expect(await h.scan('esc', '2025-06-04T08:00:00Z')).toMatchObject({ escalated: 0 }); // same period: no repeat
    expect(await h.scan('esc', '2025-06-05T08:00:00Z')).toMatchObject({ escalated: 1 });
    expect(await h.scan('esc', '2025-06-07T09:00:00Z')).toMatchObject({ escalated: 1 });
    expect(await h.scan('esc', '2025-06-20T09:00:00Z')).toMatchObject({ escalated: 0 }); // chain exhausted (the 14-day alert rides the same track)
    expect(await escalations('esc', 'ins')).toEqual(['ins:L1:manager', 'ins:L2:director', 'ins:L3:ceo']);

    const [first] = await h.stored('document.escalated', 'esc');
    expect(first.id).toBe('esc:ins:2025-07-01T12:00:00.000Z:30:escalation-1');
    expect(first.subject).toBe('events.esc.document.escalated');
    expect(first.data).toMatchObject({ id: 'ins', companyId: 'esc', level: 1, role: 'manager', alertKind: 'expiring', thresholdDays: 30, escalatedAt: '2025-06-03T08:00:00.000Z' });
  });

  it('catches up every level due when scans were missed', async () => {
    await h.upsert('esc', { id: 'late', expiresAt: '2025-07-05T12:00:00Z' });
    await h.scan('esc', '2025-06-05T08:00:00Z');
    expect(await h.scan('esc', '2025-06-09T08:00:00Z')).toMatchObject({ escalated: 2 });
    expect(await escalations('esc', 'late')).toEqual(['late:L1:manager', 'late:L2:director']);
  });

  it('stops escalating once the alert is acknowledged through the API', async () => {
    await h.upsert('esc', { id: 'api', expiresAt: '2025-07-10T12:00:00Z' });
    await h.scan('esc', '2025-06-10T08:00:00Z');
    await h.scan('esc', '2025-06-12T08:00:00Z');
    expect(await escalations('esc', 'api')).toEqual(['api:L1:manager']);
    h.clock.set('2025-06-13T10:00:00Z');
    const ack = await h.http('POST', '/api/v1/documents/api/acknowledge', { companyId: 'esc', userId: 'alice' });
    expect(ack).toMatchObject({ status: 200, body: { id: 'api', acknowledged: 1, acknowledgedBy: 'alice', acknowledgedAt: '2025-06-13T10:00:00.000Z' } });
    await h.scan('esc', '2025-06-26T08:00:00Z'); // raises the 14-day alert
    expect(await escalations('esc', 'api')).toEqual(['api:L1:manager']);
    const doc = await h.http('GET', '/api/v1/documents/api', { companyId: 'esc' });
    expect(doc.body.alerts).toEqual([
      expect.objectContaining({ threshold: 30, kind: 'expiring', acknowledgedBy: 'alice', escalationLevel: 1 }),
      expect.objectContaining({ threshold: 14, kind: 'expiring', acknowledgedAt: null, escalationLevel: 0 }),
    ]);
    // The 14-day alert came after the acknowledgement: it escalates on its own clock, from level 1.
    await h.scan('esc', '2025-06-28T08:00:00Z');
    expect(await escalations('esc', 'api')).toEqual(['api:L1:manager', 'api:L1:manager']);
  });

  it('stops escalating on a document.acknowledged event', async () => {
    await h.upsert('esc', { id: 'evt', expiresAt: '2025-07-15T12:00:00Z' });
    await h.scan('esc', '2025-06-15T08:00:00Z');
    await h.publisher.publishEvent('document.acknowledged', 'esc', { id: 'evt', companyId: 'esc', acknowledgedBy: 'bob', occurredAt: '2025-06-16T08:00:00Z' });
    const { waitFor } = await import('../../support/wait.js');
    await waitFor(async () => (await h.database.query("SELECT 1 FROM document_alerts WHERE document_id = 'evt' AND acknowledged_by = 'bob'")).length === 1, { what: 'acknowledgement' });
    await h.scan('esc', '2025-06-25T08:00:00Z');
    expect(await escalations('esc', 'evt')).toEqual([]);
  });

  it('stops escalating the old expiry once the document is renewed', async () => {
    await h.upsert('esc', { id: 'ren', expiresAt: '2025-07-20T12:00:00Z' });
    await h.scan('esc', '2025-06-20T08:00:00Z');
    await h.upsert('esc', { id: 'ren', expiresAt: '2026-07-20T12:00:00Z' });
    expect(await h.scan('esc', '2025-06-26T08:00:00Z')).toMatchObject({ escalated: 0 });
    expect(await escalations('esc', 'ren')).toEqual([]);
  });

  it('does not escalate for a tenant without a chain', async () => {
    await h.upsert('quiet', { id: 'q', expiresAt: '2025-06-05T00:00:00Z' });
    await h.scan('quiet', '2025-06-01T00:00:00Z');
    expect(await h.scan('quiet', '2025-06-30T00:00:00Z')).toMatchObject({ escalated: 0, expired: 1 });
    expect(await escalations('quiet')).toEqual([]);
  });
});
