import { randomUUID } from 'node:crypto';
import { JOB_NAMES } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { DocumentsHarness } from './harness.js';

/**
 * What a tenant job may do with its payload, with ALLOW_TIME_OVERRIDES off (as
 * in production): a payload naming another tenant is dead-lettered and
 * changes nothing of that tenant; a payload choosing the time (asOf) is
 * dead-lettered as invalid, not silently ignored; the platform's fan-out
 * hands its children no instant, each judges by its own clock.
 */
describe('documents: tenant jobs and time overrides', () => {
  const h = new DocumentsHarness({ ALLOW_TIME_OVERRIDES: 'false' });
  const deadLetter = (id: string) =>
    waitFor(async () => (await h.database.query<{ reason: string; error: string; company_id: string }>('SELECT reason, error, company_id FROM dead_letters WHERE id = $1', [id]))[0], { what: `dead letter ${id}` });
  const alerts = async (companyId: string) => (await h.database.query<{ n: number }>('SELECT count(*)::int AS n FROM document_alerts WHERE company_id = $1', [companyId]))[0].n;
  const job = (job: string, runId: string, companyId: string | undefined, payload: Record<string, unknown>) =>
    h.publisher.publishJob(job, { runId, ...(companyId ? { companyId } : {}), payload, scheduledFor: new Date().toISOString() }, { runId, ...(companyId ? { companyId } : {}) });

  beforeAll(async () => {
    await h.start();
    // Both expire two days after the harness clock (2025-06-01): inside the default thresholds.
    await h.upsert('acme', { id: 'acme-doc', expiresAt: '2025-06-03T12:00:00Z', responsibleRole: 'safety' });
    await h.upsert('globex', { id: 'globex-doc', expiresAt: '2025-06-03T12:00:00Z', responsibleRole: 'safety' });
  }, 60_000);
  afterAll(() => h.stop());

  it('dead-letters a tenant job whose payload names another tenant, and leaves that tenant untouched', async () => {
    const before = await h.database.query(`SELECT * FROM document_alerts WHERE company_id = 'globex'`);
    const runId = `cross-${randomUUID()}`;
    await job(JOB_NAMES.documentsExpiryScan, runId, 'acme', { companyId: 'globex' });
    const dead = await deadLetter(runId);
    expect(dead).toMatchObject({ reason: 'permanent_error', company_id: 'acme' });
    expect(dead!.error).toMatch(/names tenant "globex" but the run belongs to "acme"/);
    await h.waitForRun(runId, 'dead');
    expect(await h.database.query(`SELECT * FROM document_alerts WHERE company_id = 'globex'`)).toEqual(before);
    expect(await h.database.query('SELECT 1 FROM document_scans WHERE run_id = $1', [runId])).toEqual([]);
    expect(await h.stored(undefined, 'globex')).toEqual(expect.not.arrayContaining([expect.objectContaining({ type: 'document.expiring' })]));
  });

  it('dead-letters a payload that carries asOf (scan and fan-out) as invalid and raises nothing', async () => {
    const scan = `asof-${randomUUID()}`;
    await job(JOB_NAMES.documentsExpiryScan, scan, 'acme', { asOf: '2025-07-01T00:00:00Z' });
    const dead = await deadLetter(scan);
    expect(dead).toMatchObject({ reason: 'invalid_payload' });
    expect(dead!.error).toMatch(/"asOf" would override the clock.*ALLOW_TIME_OVERRIDES/);
    await h.waitForRun(scan, 'dead');
    const fanout = `asof-all-${randomUUID()}`;
    const published = await h.jobsPublished();
    await job(JOB_NAMES.documentsExpiryScanAll, fanout, undefined, { asOf: '2025-07-01T00:00:00Z' });
    expect(await deadLetter(fanout)).toMatchObject({ reason: 'invalid_payload' });
    await h.waitForRun(fanout, 'dead');
    // The fan-out published no child scan: JOBS stored the fan-out's own message and nothing after it.
    expect(await h.jobsPublished()).toBe(published + 1);
    expect(await h.database.query(`SELECT run_id FROM job_attempts WHERE run_id LIKE $1`, [`${fanout}:%`])).toEqual([]);
    expect(await alerts('acme')).toBe(0);
    // "expired" for a document two days before it expires would need asOf: none was raised.
    expect(await h.stored('document.expired', 'acme')).toEqual([]);
  });

  it('fans out children without an instant: each scans its own tenant by its own clock', async () => {
    const runId = `fanout-${randomUUID()}`;
    await job(JOB_NAMES.documentsExpiryScanAll, runId, undefined, {});
    for (const tenant of ['acme', 'globex']) {
      const child = await h.waitForRun(`${runId}:${tenant}`, 'succeeded');
      expect(child.company_id).toBe(tenant);
    }
    // Each child judged by its own clock (the harness clock), not by an instant handed down (which would have been dead-lettered here).
    const scans = await h.database.query<{ as_of: Date }>(`SELECT as_of FROM document_scans WHERE run_id LIKE $1`, [`${runId}:%`]);
    expect(scans.map((s) => s.as_of.toISOString())).toEqual(['2025-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z']);
    await waitFor(async () => (await alerts('acme')) === 1 && (await alerts('globex')) === 1, { what: 'one expiring alert each' });
    expect(await h.stored('document.expired', 'acme')).toEqual([]);
  });
});
