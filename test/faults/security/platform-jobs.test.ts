import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kvm } from '@nats-io/kv';
import { createCloudEvent, encodeCloudEvent, JOB_CATALOG_BUCKET, JOB_NAMES, PRIORITIES, subjects, type JobDeclaration } from '../../../libs/common/src/index.js';
import { apiKey, bearer, seed, token } from '../../integration/control-plane/support.js';
import { enqueuePaths } from '../../support/enqueue-paths.js';
import { waitFor } from '../../support/wait.js';
import { scenario } from '../support/recorder.js';
import { FourServices, tenantFingerprint } from './services.js';
import { httpCall } from '../../support/http.js';

/**
 * Security: platform-only jobs and tenant jobs, against the four services in
 * one process (their job runtimes publish the job catalog the scheduler
 * reads). Tenant roles and service keys try every platform job the catalog
 * holds through every admin path that enqueues: 403 problem+json and nothing
 * planned, published or retried. Tenant jobs whose payload names another
 * tenant are dead-lettered by their real handlers and change nothing of it;
 * payloads choosing the time (asOf) are refused (ALLOW_TIME_OVERRIDES is off).
 */
const A = 'acme';
const B = 'globex';
const env = new FourServices();
let catalog: JobDeclaration[] = [];
const auth: Record<'tenant-admin' | 'viewer' | 'service' | 'system-admin', Record<string, string>> = {} as never;

const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) => httpCall(`${env.base('scheduler')}${path}`, method, headers, body);

async function traces(job: string): Promise<string> {
  const [{ runs }] = await env.database.query<{ runs: number }>(`SELECT count(*)::int AS runs FROM job_runs WHERE job = $1 AND state <> 'dead'`, [job]);
  const [{ outbox }] = await env.database.query<{ outbox: number }>(`SELECT count(*)::int AS outbox FROM outbox WHERE subject = ANY($1)`, [PRIORITIES.map((p) => `jobs.${p}.${job}`)]);
  const info = await env.jsm.streams.info('JOBS', { subjects_filter: `jobs.*.${job}` });
  return JSON.stringify({ runs, outbox, stream: Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0) });
}

async function deadLetter(runId: string) {
  return waitFor(async () => (await env.database.query<{ reason: string; error: string; company_id: string }>('SELECT reason, error, company_id FROM dead_letters WHERE id = $1', [runId]))[0], { what: `dead letter ${runId}`, timeoutMs: 20_000 });
}

beforeAll(async () => {
  await env.start();
  auth['tenant-admin'] = { ...bearer(await token('tenant-admin', A, { sub: `user-${A}` })), 'X-Company-Id': A, 'X-User-Id': `user-${A}` };
  auth.viewer = { ...bearer(await token('viewer', A, { sub: `viewer-${A}` })), 'X-Company-Id': A, 'X-User-Id': `viewer-${A}` };
  auth.service = apiKey();
  auth['system-admin'] = bearer(await token('system-admin'));
  // What the runtimes published: every handler of the four services, and the scheduler's retention.
  const kv = await new Kvm(env.nc).open(JOB_CATALOG_BUCKET);
  catalog = await waitFor(async () => {
    const found: JobDeclaration[] = [];
    for await (const key of await kv.keys('>')) {
      const e = await kv.get(key);
      if (e?.operation === 'PUT') found.push(e.json<JobDeclaration>());
    }
    return found.length >= 10 ? found : undefined;
  }, { what: 'job catalog published by the runtimes', timeoutMs: 30_000 }) ?? [];
  // B's documents, expiring soon: a scan that crossed into B would raise alerts for them.
  for (const id of ['b-doc-1', 'b-doc-2']) {
    const e = createCloudEvent({ type: 'document.upserted', source: 'security-test', companyId: B, data: { id, companyId: B, version: 1, title: id, responsibleRole: 'safety', expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString() } });
    await env.js.publish(subjects.event(B, 'document.upserted'), encodeCloudEvent(e), { msgID: e.id });
  }
  await waitFor(async () => (await env.database.query('SELECT 1 FROM documents WHERE company_id = $1', [B])).length === 2, { what: 'B documents projected' });
}, 180_000);

afterAll(async () => {
  await env.stop();
});

describe('security: platform-only jobs and tenant jobs', () => {
  it('the catalog holds every handler as declared, published by the runtimes themselves', () => {
    const byJob = Object.fromEntries(catalog.map((d) => [d.job, d]));
    expect(Object.keys(byJob).sort()).toEqual(Object.values(JOB_NAMES).sort());
    expect(catalog.filter((d) => d.platform).map((d) => d.job).sort()).toEqual(
      [JOB_NAMES.documentsExpiryScanAll, JOB_NAMES.documentsTick, JOB_NAMES.notifierMonthlyReport, JOB_NAMES.notifierWeeklyDigest, JOB_NAMES.schedulerRetention].sort(),
    );
    expect(byJob[JOB_NAMES.documentsExpiryScan]).toMatchObject({ service: 'documents', tenantSchedulable: true, platform: false, maxAttempts: 5, timeoutMs: 600_000 });
    expect(byJob[JOB_NAMES.schedulerRetention]).toMatchObject({ service: 'scheduler', platform: true });
  });

  it('refuses every platform job to tenant roles and service keys on every path; nothing is enqueued', async () => {
    await scenario('S7 platform-jobs-every-path', async (c) => {
      const platform = catalog.filter((d) => d.platform).map((d) => d.job);
      const allowed = await call('POST', '/api/v1/schedules', auth['system-admin'], { name: 'allowed-a', kind: 'cron', cron: '0 5 * * *', job: JOB_NAMES.documentsExpiryScan, scope: 'tenant', companyId: A });
      expect(allowed.status).toBe(201);
      const problems: string[] = [];
      for (const job of platform) {
        const mk = async (name: string) => (await call('POST', '/api/v1/schedules', auth['system-admin'], { name, kind: 'cron', cron: '0 3 * * *', job, scope: 'tenant', companyId: A })).json.id as string;
        const running = await mk(`p-${job}`);
        const paused = await mk(`pp-${job}`);
        expect((await call('POST', `/api/v1/schedules/${paused}/pause`, auth['system-admin'])).status).toBe(200);
        const { dlqId } = await seed(env.database, A, job);
        const before = await traces(job);
        for (const who of ['tenant-admin', 'viewer', 'service'] as const) {
          for (const [what, method, path, body] of enqueuePaths(job, A, { running, paused, dlqId, allowedSchedule: allowed.json.id }, who)) {
            const res = await call(method, path, auth[who], body);
            c.faults++;
            c.messages++;
            if (res.status !== 403 || !res.type.startsWith('application/problem+json')) problems.push(`${who} ${what} ${job}: ${res.status} ${res.text.slice(0, 160)}`);
          }
        }
        const after = await traces(job);
        if (after !== before) problems.push(`${job}: enqueued ${before} -> ${after}`);
        const [dead] = await env.database.query<{ retried_at: Date | null }>('SELECT retried_at FROM dead_letters WHERE id = $1', [dlqId]);
        if (dead.retried_at) problems.push(`${job}: dead letter retried`);
      }
      c.lost = problems.length;
      c.notes = `${platform.length} platform jobs x 3 callers x 8 paths`;
      expect(problems).toEqual([]);
    });
  }, 180_000);

  it('dead-letters every tenant job whose payload names another tenant; nothing of that tenant changes', async () => {
    await scenario('S7 tenant-jobs-cross-tenant-payload', async (c) => {
      const before = await tenantFingerprint(env.database, B);
      // A payload that satisfies each job's contract, naming B: only the tenant check can stop it.
      const payloads: Record<string, Record<string, unknown>> = {
        [JOB_NAMES.documentsExpiryScan]: {},
        [JOB_NAMES.recurrenceGenerate]: {},
        [JOB_NAMES.recurrenceCleanup]: {},
        [JOB_NAMES.recurrenceReminder]: { reminderId: 'r-1', revision: 1 },
        [JOB_NAMES.notifierDeliver]: { channel: 'email', notificationId: 'n-1' },
        [JOB_NAMES.notifierWeeklyDigest]: {},
        [JOB_NAMES.notifierMonthlyReport]: {},
      };
      const problems: string[] = [];
      for (const [job, payload] of Object.entries(payloads)) {
        // As a platform admin (any job), and as A's tenant admin where it may (tenant-schedulable jobs).
        const callers = catalog.find((d) => d.job === job)?.tenantSchedulable ? (['system-admin', 'tenant-admin'] as const) : (['system-admin'] as const);
        for (const who of callers) {
          const res = await call('POST', `/api/v1/jobs/${job}/trigger`, auth[who], { payload: { ...payload, companyId: B }, companyId: A });
          c.faults++;
          c.messages++;
          if (res.status !== 202) {
            problems.push(`${who} ${job}: trigger answered ${res.status} ${res.text.slice(0, 160)}`);
            continue;
          }
          const dead = await deadLetter(res.json.runId);
          if (dead?.reason !== 'permanent_error' || !/names tenant "globex" but the run belongs to "acme"/.test(dead.error)) problems.push(`${who} ${job}: ${JSON.stringify(dead)}`);
        }
      }
      const after = await tenantFingerprint(env.database, B);
      const changed = Object.keys(before).filter((t) => before[t] !== after[t]);
      c.lost = problems.length + changed.length;
      c.notes = `tables of ${B} changed: ${changed.join(', ') || 'none'}`;
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
    });
  }, 180_000);

  it('refuses payloads that choose the time (asOf) as invalid: no alert for a document that has not expired', async () => {
    await scenario('S7 time-overrides', async (c) => {
      const scan = await call('POST', `/api/v1/jobs/${JOB_NAMES.documentsExpiryScan}/trigger`, auth['tenant-admin'], { payload: { asOf: new Date(Date.now() + 25 * 86_400_000).toISOString() } });
      expect(scan.status).toBe(202);
      const all = await call('POST', `/api/v1/jobs/${JOB_NAMES.documentsExpiryScanAll}/trigger`, auth['system-admin'], { payload: { asOf: new Date(Date.now() + 25 * 86_400_000).toISOString() } });
      expect(all.status).toBe(202);
      c.faults += 2;
      c.messages += 2;
      for (const runId of [scan.json.runId, all.json.runId]) {
        const dead = await deadLetter(runId);
        expect(dead).toMatchObject({ reason: 'invalid_payload' });
        expect(dead!.error).toMatch(/ALLOW_TIME_OVERRIDES/);
      }
      expect(await env.database.query(`SELECT id FROM job_runs WHERE id LIKE $1`, [`${all.json.runId}:%`])).toEqual([]);
      expect(await env.database.query(`SELECT 1 FROM document_alerts WHERE kind = 'expired'`)).toEqual([]);
    });
  }, 120_000);
});
