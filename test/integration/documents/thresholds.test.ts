import { DocumentsHarness } from './harness.js';

/** Threshold crossings, per tenant time zone; reruns; renewal; tenant isolation; crash recovery. */
describe('document expiry scan', () => {
  const h = new DocumentsHarness();
  beforeAll(async () => {
    await h.start();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  const expiring = async (companyId: string) =>
    (await h.stored('document.expiring', companyId)).map((e) => `${e.data.id}@${e.data.thresholdDays}`);

  it('crosses a threshold at local midnight of the tenant time zone', async () => {
    // Tokyo is UTC+9, Los Angeles UTC-7 in June: the 14-day threshold of a document expiring on 2025-06-30
    // begins at 2025-06-15T15:00Z in Tokyo and 2025-06-16T07:00Z in Los Angeles.
    await h.tenant('tz-tokyo', 'Asia/Tokyo');
    await h.tenant('tz-la', 'America/Los_Angeles');
    for (const c of ['tz-tokyo', 'tz-la']) await h.upsert(c, { id: 'lease', expiresAt: '2025-06-30T12:00:00Z' });

    await h.scan('tz-tokyo', '2025-05-31T00:00:00Z');
    await h.scan('tz-la', '2025-05-31T00:00:00Z');
    // 30 days before 06-30 local is 05-31 local: already in Tokyo (09:00 local), not yet in LA (17:00 on 05-30 local).
    expect(await expiring('tz-tokyo')).toEqual(['lease@30']);
    expect(await expiring('tz-la')).toEqual([]);

    const at = '2025-06-15T15:30:00Z';
    await h.scan('tz-tokyo', at);
    await h.scan('tz-la', at);
    expect(await expiring('tz-tokyo')).toEqual(['lease@30', 'lease@14']);
    expect(await expiring('tz-la')).toEqual(['lease@30']);

    await h.scan('tz-la', '2025-06-16T06:59:59Z');
    expect(await expiring('tz-la')).toEqual(['lease@30']);
    await h.scan('tz-la', '2025-06-16T07:00:00Z');
    expect(await expiring('tz-la')).toEqual(['lease@30', 'lease@14']);

    const [event] = await h.stored('document.expiring', 'tz-la').then((e) => e.slice(1));
    expect(event.subject).toBe('events.tz-la.document.expiring');
    expect(event.id).toBe('tz-la:lease:2025-06-30T12:00:00.000Z:14');
    expect(event.data).toMatchObject({ id: 'lease', companyId: 'tz-la', thresholdDays: 14, daysLeft: 14, expiresAt: '2025-06-30T12:00:00.000Z', timezone: 'America/Los_Angeles' });
  });

  it('emits document.expired once, at the expiry instant', async () => {
    await h.upsert('exp', { id: 'visa', expiresAt: '2025-07-10T09:00:00Z' });
    await h.scan('exp', '2025-07-10T08:59:59Z');
    expect(await h.stored('document.expired', 'exp')).toHaveLength(0);
    expect(await expiring('exp')).toEqual(['visa@1']);
    await h.scan('exp', '2025-07-10T09:00:00Z');
    await h.scan('exp', '2025-07-11T09:00:00Z');
    const expired = await h.stored('document.expired', 'exp');
    expect(expired.map((e) => e.id)).toEqual(['exp:visa:2025-07-10T09:00:00.000Z:expired']);
  });

  it('follows per-type overrides', async () => {
    await h.putSettings('types', { thresholds: [30, 7], typeOverrides: { passport: [90], permit: [] } });
    await h.upsert('types', { id: 'p1', type: 'passport', expiresAt: '2025-09-01T00:00:00Z' });
    await h.upsert('types', { id: 'x1', type: 'permit', expiresAt: '2025-07-01T00:00:00Z' });
    await h.upsert('types', { id: 'c1', type: 'contract', expiresAt: '2025-07-01T00:00:00Z' });
    await h.scan('types', '2025-06-29T00:00:00Z');
    expect((await expiring('types')).sort()).toEqual(['c1@7', 'p1@90']);
  });

  it('changes nothing when the same scan runs again', async () => {
    await h.upsert('rerun', { id: 'a', expiresAt: '2025-06-20T00:00:00Z' });
    await h.upsert('rerun', { id: 'b', expiresAt: '2025-06-05T00:00:00Z' });
    await h.upsert('rerun', { id: 'c', expiresAt: '2025-05-30T00:00:00Z' });
    const first = await h.scan('rerun', '2025-06-01T10:00:00Z');
    expect(first).toMatchObject({ expiring: 2, expired: 1 });
    const alerts = await h.database.query('SELECT * FROM document_alerts WHERE company_id = $1 ORDER BY event_id', ['rerun']);
    const events = await h.stored(undefined, 'rerun');
    for (let i = 0; i < 3; i++) expect(await h.scan('rerun', '2025-06-01T10:00:00Z')).toMatchObject({ expiring: 0, expired: 0, escalated: 0, republished: 0 });
    expect(await h.database.query('SELECT * FROM document_alerts WHERE company_id = $1 ORDER BY event_id', ['rerun'])).toEqual(alerts);
    expect(await h.stored(undefined, 'rerun')).toEqual(events);
  });

  it('starts the thresholds again when a document is renewed', async () => {
    await h.upsert('renew', { id: 'cert', expiresAt: '2025-06-10T00:00:00Z' });
    await h.scan('renew', '2025-06-04T00:00:00Z');
    expect(await expiring('renew')).toEqual(['cert@7']);
    await h.upsert('renew', { id: 'cert', expiresAt: '2026-06-10T00:00:00Z' });
    await h.scan('renew', '2025-06-10T00:00:00Z');
    expect(await h.stored('document.expired', 'renew')).toHaveLength(0);
    await h.scan('renew', '2026-05-11T00:00:00Z');
    await h.scan('renew', '2026-06-03T00:00:00Z');
    expect(await expiring('renew')).toEqual(['cert@7', 'cert@30', 'cert@7']);
    const ids = (await h.stored('document.expiring', 'renew')).map((e) => e.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('never emits for another tenant', async () => {
    for (const c of ['iso-a', 'iso-b']) {
      await h.upsert(c, { id: 'shared-id', expiresAt: '2025-06-03T00:00:00Z' });
      await h.upsert(c, { id: `${c}-only`, expiresAt: '2025-06-02T00:00:00Z' });
    }
    const scan = await h.scan('iso-a', '2025-06-02T12:00:00Z');
    expect(scan).toMatchObject({ company_id: 'iso-a', expiring: 1, expired: 1 });
    const all = await h.stored(undefined, '*');
    const fromScan = all.filter((e) => ['document.expiring', 'document.expired'].includes(e.type) && String(e.data.id).match(/shared-id|iso-/));
    expect(fromScan.map((e) => [e.subject, e.companyid, e.data.companyId, e.data.id])).toEqual([
      ['events.iso-a.document.expired', 'iso-a', 'iso-a', 'iso-a-only'],
      ['events.iso-a.document.expiring', 'iso-a', 'iso-a', 'shared-id'],
    ]);
    expect(await h.database.query("SELECT 1 FROM document_alerts WHERE company_id = 'iso-b'")).toHaveLength(0);
  });

  it('republishes with the same id what a crash left planned but unpublished', async () => {
    await h.upsert('crash', { id: 'd1', expiresAt: '2025-06-05T00:00:00Z' });
    await h.upsert('crash', { id: 'd2', expiresAt: '2025-06-06T00:00:00Z' });
    await h.scan('crash', '2025-06-01T00:00:00Z');
    const before = await h.stored('document.expiring', 'crash');
    expect(before).toHaveLength(2);
    // As if the process died after inserting d2's alert and before marking it published (or publishing it).
    await h.database.query("UPDATE document_alerts SET published_at = NULL WHERE company_id = 'crash' AND document_id = 'd2'");
    await h.database.query(
      `INSERT INTO document_alerts (company_id, document_id, expires_at, threshold, kind, event_id, payload, alerted_at)
       VALUES ('crash', 'd3', '2025-06-07T00:00:00Z', 7, 'expiring', 'crash:d3:2025-06-07T00:00:00.000Z:7', '{"id":"d3","companyId":"crash","thresholdDays":7}', '2025-06-01T00:00:00Z')`,
    );
    const rerun = await h.scan('crash', '2025-06-01T00:00:00Z');
    expect(rerun).toMatchObject({ republished: 2, expiring: 0 });
    const after = await h.stored('document.expiring', 'crash');
    // d2 was already stored: JetStream's dedup window drops the repeat; d3 is stored once.
    expect(after.map((e) => e.id)).toEqual([...before.map((e) => e.id), 'crash:d3:2025-06-07T00:00:00.000Z:7']);
    expect(await h.database.query("SELECT 1 FROM document_alerts WHERE company_id = 'crash' AND published_at IS NULL")).toHaveLength(0);
  });

  it('fans documents.expiry-scan-all out to one scan per tenant', async () => {
    const before = Number((await h.database.query<{ n: string }>('SELECT count(*) n FROM document_scans'))[0].n);
    const tenants = (await h.database.query<{ c: string }>('SELECT DISTINCT company_id c FROM documents UNION SELECT company_id FROM document_settings')).map((r) => r.c);
    await h.publisher.publishJob('documents.expiry-scan-all', { asOf: '2025-06-02T00:00:00Z' }, { runId: 'fanout-1' });
    await h.publisher.publishJob('documents.expiry-scan-all', { asOf: '2025-06-02T00:00:00Z' }, { runId: 'fanout-1' });
    const { waitFor } = await import('../../support/wait.js');
    const runs = await waitFor(async () => {
      const rows = await h.database.query<{ run_id: string; company_id: string }>("SELECT run_id, company_id FROM document_scans WHERE run_id LIKE 'fanout-1:%' AND finished_at IS NOT NULL");
      return rows.length === tenants.length ? rows : undefined;
    }, { what: 'one scan per tenant' });
    expect(runs!.map((r) => r.company_id).sort()).toEqual([...tenants].sort());
    expect(runs!.every((r) => r.run_id === `fanout-1:${r.company_id}`)).toBe(true);
    expect(Number((await h.database.query<{ n: string }>('SELECT count(*) n FROM document_scans'))[0].n)).toBe(before + tenants.length);
    // Run history: the fan-out and every tenant's scan ran on the job runtime and succeeded once.
    const fanout = await h.waitForRun('fanout-1', 'succeeded');
    expect(fanout).toMatchObject({ job: 'documents.expiry-scan-all', attempts: 1, result: { status: 'success', recordsProcessed: tenants.length } });
    for (const t of tenants) {
      expect(await h.waitForRun(`fanout-1:${t}`, 'succeeded')).toMatchObject({ job: 'documents.expiry-scan', company_id: t, attempts: 1 });
    }
  });
});
