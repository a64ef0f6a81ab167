import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JOB_NAMES, PRIORITIES } from '../../../libs/common/src/index.js';
import { enqueuePaths } from '../../support/enqueue-paths.js';
import { announce, productionDeclarations } from '../../support/job-declarations.js';
import { waitFor } from '../../support/wait.js';
import { apiKey, bearer, ControlPlaneEnv, seed, TENANT_A, token } from './support.js';

/**
 * Platform-only jobs through the scheduler's admin API (a built scheduler
 * process, real NATS and Postgres). The job catalog holds what the services'
 * handlers declare (read from their @JobHandler decorators and published as
 * their runtimes do; the scheduler publishes its own retention job). Tenant
 * roles and service keys try every platform job through every path that
 * enqueues (schedule create, change, resume, trigger; job trigger; dead-letter
 * retry): 403 problem+json, and nothing is planned, published or retried.
 */
const env = new ControlPlaneEnv('platform-jobs');
const DECLARED = productionDeclarations();
const PLATFORM = [...DECLARED.filter((d) => d.platform).map((d) => d.job), JOB_NAMES.schedulerRetention].sort();
const TENANT_SCHEDULABLE = DECLARED.filter((d) => d.tenantSchedulable).map((d) => d.job).sort();
const TENANT_ONLY = DECLARED.filter((d) => !d.platform && !d.tenantSchedulable).map((d) => d.job).sort();
let nc: NatsConnection;
let jsm: JetStreamManager;
const caller: Record<'tenant-admin' | 'viewer' | 'service' | 'system-admin', Record<string, string>> = {} as never;

beforeAll(async () => {
  await env.start({ API_RATE_LIMIT_BURST: '100000', API_RATE_LIMIT_PER_SECOND: '100000', SCHEDULES_MAX_PER_TENANT: '20' });
  nc = await connect({ servers: env.nats.url });
  jsm = await jetstreamManager(nc);
  await announce(env.nats.url, DECLARED);
  caller['tenant-admin'] = bearer(await token('tenant-admin', TENANT_A));
  caller.viewer = bearer(await token('viewer', TENANT_A));
  caller.service = apiKey();
  caller['system-admin'] = bearer(await token('system-admin'));
  // The scheduler follows the catalog: wait until it knows a tenant-schedulable job.
  await waitFor(async () => (await env.call('POST', `/api/v1/jobs/${JOB_NAMES.recurrenceCleanup}/trigger`, { auth: caller['tenant-admin'], body: {} })).status === 202, { what: 'catalog seen by the scheduler' });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await env.stop();
});

/** Everything that would show a run of `job` was planned or published: job_runs not dead, outbox rows, messages in JOBS. */
async function traces(job: string): Promise<{ runs: number; outbox: number; stream: number }> {
  const [{ runs }] = await env.database.query<{ runs: number }>(`SELECT count(*)::int AS runs FROM job_runs WHERE job = $1 AND state <> 'dead'`, [job]);
  const [{ outbox }] = await env.database.query<{ outbox: number }>(`SELECT count(*)::int AS outbox FROM outbox WHERE subject = ANY($1)`, [PRIORITIES.map((p) => `jobs.${p}.${job}`)]);
  const info = await jsm.streams.info('JOBS', { subjects_filter: `jobs.*.${job}` });
  const stream = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  return { runs, outbox, stream };
}

async function schedule(body: Record<string, unknown>, auth = caller['system-admin']) {
  const res = await env.call('POST', '/api/v1/schedules', { auth, body: { name: `s-${Math.random().toString(36).slice(2, 10)}`, kind: 'cron', cron: '0 3 * * *', timezone: 'UTC', ...body } });
  expect(res.status).toBe(201);
  return res.json as { id: string };
}

function expectForbidden(res: { status: number; type: string; json: any; text: string }, what: string, problems: string[]) {
  if (res.status !== 403) problems.push(`${what}: expected 403, got ${res.status} ${res.text.slice(0, 200)}`);
  else if (!res.type.startsWith('application/problem+json') || res.json?.status !== 403 || typeof res.json?.detail !== 'string') problems.push(`${what}: 403 is not problem+json: ${res.text.slice(0, 200)}`);
}

describe('platform-only jobs', () => {
  it('are the fan-outs, the heartbeat, the digests and retention, as their handlers declare', () => {
    expect(PLATFORM).toEqual([
      JOB_NAMES.documentsExpiryScanAll, JOB_NAMES.documentsTick, JOB_NAMES.notifierMonthlyReport, JOB_NAMES.notifierWeeklyDigest, JOB_NAMES.schedulerRetention,
    ].sort());
    expect(TENANT_SCHEDULABLE).toEqual([JOB_NAMES.documentsExpiryScan, JOB_NAMES.recurrenceCleanup, JOB_NAMES.recurrenceGenerate].sort());
    expect(TENANT_ONLY).toEqual([JOB_NAMES.notifierDeliver, JOB_NAMES.recurrenceReminder, JOB_NAMES.recurrenceTaskReminder].sort());
  });

  it('refuses every platform job to tenant roles and service keys on every path, and enqueues nothing', async () => {
    const problems: string[] = [];
    const before = new Map<string, Awaited<ReturnType<typeof traces>>>();
    const targets = new Map<string, { paused: string; running: string; dlqId: string }>();
    for (const job of PLATFORM) {
      // A tenant schedule of the job (made by a platform admin, as only one can), one paused, and a dead run of it.
      const running = await schedule({ job, scope: 'tenant', companyId: TENANT_A });
      const paused = await schedule({ job, scope: 'tenant', companyId: TENANT_A });
      expect((await env.call('POST', `/api/v1/schedules/${paused.id}/pause`, { auth: caller['system-admin'] })).status).toBe(200);
      const { dlqId } = await seed(env.database, TENANT_A, job);
      targets.set(job, { paused: paused.id, running: running.id, dlqId });
      before.set(job, await traces(job));
    }
    const allowed = await schedule({ job: JOB_NAMES.documentsExpiryScan, scope: 'tenant', companyId: TENANT_A });
    let attempts = 0;
    for (const job of PLATFORM) {
      const t = targets.get(job)!;
      for (const who of ['tenant-admin', 'viewer', 'service'] as const) {
        const auth = caller[who];
        const tries = enqueuePaths(job, TENANT_A, { ...t, allowedSchedule: allowed.id }, who);
        for (const [what, method, path, body] of tries) {
          attempts++;
          expectForbidden(await env.call(method, path, { auth, body }), `${who} ${what} ${job}`, problems);
        }
        // Retrying every dead letter of the tenant skips the platform job's and says why.
        if (who !== 'viewer') {
          const all = await env.call('POST', '/api/v1/dlq/retry', { auth, body: { companyId: TENANT_A } });
          const mine = (all.json?.failed ?? []).find((f: { id: string }) => f.id === t.dlqId);
          if (all.status !== 200 || !mine || !/platform job/.test(mine.error)) problems.push(`${who} retry-all did not skip ${job}: ${all.status} ${all.text.slice(0, 300)}`);
          if ((all.json?.retried ?? []).includes(t.dlqId)) problems.push(`${who} retry-all retried ${job}`);
        }
      }
      // The per-tenant schedules the platform registers itself, triggered by a tenant for its own tenant.
      if (job === JOB_NAMES.notifierWeeklyDigest || job === JOB_NAMES.notifierMonthlyReport) {
        const name = job === JOB_NAMES.notifierWeeklyDigest ? 'platform.notifier-weekly-digest' : 'platform.notifier-monthly-report';
        attempts++;
        expectForbidden(await env.call('POST', `/api/v1/schedules/${name}/trigger`, { auth: caller['tenant-admin'], body: {} }), `tenant-admin trigger ${name}`, problems);
      }
    }
    for (const job of PLATFORM) {
      const after = await traces(job);
      if (JSON.stringify(after) !== JSON.stringify(before.get(job))) problems.push(`${job}: something was enqueued: ${JSON.stringify(before.get(job))} -> ${JSON.stringify(after)}`);
      const [dead] = await env.database.query<{ retried_at: Date | null }>('SELECT retried_at FROM dead_letters WHERE id = $1', [targets.get(job)!.dlqId]);
      if (dead.retried_at) problems.push(`${job}: its dead letter was retried`);
      const [s] = await env.database.query<{ paused: boolean; job: string }>('SELECT paused, job FROM schedules WHERE id = $1', [targets.get(job)!.paused]);
      if (!s.paused) problems.push(`${job}: its paused schedule was resumed`);
    }
    const [unchanged] = await env.database.query<{ job: string }>('SELECT job FROM schedules WHERE id = $1', [allowed.id]);
    expect(unchanged.job).toBe(JOB_NAMES.documentsExpiryScan);
    process.stdout.write(`platform jobs: ${PLATFORM.length} jobs, ${attempts} refused attempts\n`);
    expect(problems).toEqual([]);

    // The same paths work for a platform administrator: the refusals above are the policy, not a broken route.
    const job = JOB_NAMES.documentsTick;
    const run = await env.call('POST', `/api/v1/jobs/${job}/trigger`, { auth: caller['system-admin'], body: { payload: {} } });
    expect(run.status).toBe(202);
    await waitFor(async () => (await traces(job)).stream > before.get(job)!.stream, { what: 'the admin-triggered tick published' });
    expect((await env.call('POST', `/api/v1/dlq/${targets.get(job)!.dlqId}/retry`, { auth: caller['system-admin'] })).status).toBe(200);
  });

  it('lets tenant roles schedule and trigger only tenant-schedulable jobs, for their own tenant', async () => {
    const admin = caller['tenant-admin'];
    for (const job of TENANT_SCHEDULABLE) {
      const res = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: `mine-${job}`, kind: 'cron', cron: '0 5 * * *', job } });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ job, scope: 'tenant', companyId: TENANT_A });
    }
    const trig = await env.call('POST', `/api/v1/jobs/${JOB_NAMES.documentsExpiryScan}/trigger`, { auth: admin, body: { payload: {} } });
    expect(trig.status).toBe(202);
    // A trigger goes straight to JetStream: the run waits there, and the runs API shows it with the caller's tenant (and to no other tenant).
    const waiting = await env.call('GET', `/api/v1/runs/${trig.json.runId}`, { auth: admin });
    expect(waiting.status).toBe(200);
    expect(waiting.json).toMatchObject({ id: trig.json.runId, job: JOB_NAMES.documentsExpiryScan, companyId: TENANT_A, state: 'queued' });
    expect((await env.call('GET', `/api/v1/runs/${trig.json.runId}`, { auth: bearer(await token('tenant-admin', 'globex')) })).status).toBe(404);
    // Jobs the services enqueue for themselves (deliveries, reminders): a tenant may not run them with a payload of its own.
    for (const job of TENANT_ONLY) {
      const refused = await env.call('POST', `/api/v1/jobs/${job}/trigger`, { auth: admin, body: { payload: { reminderId: 'x', revision: 1 } } });
      expect(refused.status).toBe(403);
      expect(refused.json.detail).toMatch(/not declared tenant-schedulable/);
      expect((await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: `nope-${job}`, kind: 'cron', cron: '0 5 * * *', job } })).status).toBe(403);
    }
    // Its own dead runs of such a job (a failed delivery) a tenant may retry: same job, the payload the platform gave it.
    const { dlqId } = await seed(env.database, TENANT_A, JOB_NAMES.notifierDeliver);
    expect((await env.call('POST', `/api/v1/dlq/${dlqId}/retry`, { auth: admin })).status).toBe(200);
    // A job no running service declared is refused to tenants (secure default); a service key may still name it.
    const unknown = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: 'unknown-job', kind: 'cron', cron: '0 5 * * *', job: 'reports.build' } });
    expect(unknown.status).toBe(403);
    expect(unknown.json.detail).toMatch(/not declared by any running service/);
    expect((await env.call('POST', '/api/v1/schedules', { auth: caller.service, body: { name: 'svc-unknown', kind: 'cron', cron: '0 5 * * *', job: 'reports.build', scope: 'tenant', companyId: 'initech' } })).status).toBe(201);
  });
});

describe('schedule limits', () => {
  it('refuses tenant schedules firing more often than SCHEDULE_MIN_INTERVAL_MS (422), not platform ones', async () => {
    const admin = caller['tenant-admin'];
    for (const body of [{ kind: 'interval', every: '30s' }, { kind: 'cron', cron: '*/10 * * * * *' }, { kind: 'cron', cron: '0,30 * * * * *' }]) {
      const res = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: `fast-${Math.random().toString(36).slice(2)}`, job: JOB_NAMES.recurrenceGenerate, ...body } });
      expect(res.status).toBe(422);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(res.json.errors.join(' ')).toMatch(/shortest period allowed is 60 s \(SCHEDULE_MIN_INTERVAL_MS\)/);
    }
    const s = await env.call('POST', '/api/v1/schedules', { auth: admin, body: { name: 'every-minute', kind: 'cron', cron: '* * * * *', job: JOB_NAMES.recurrenceGenerate } });
    expect(s.status).toBe(201);
    const faster = await env.call('PATCH', `/api/v1/schedules/${s.json.id}`, { auth: admin, body: { kind: 'interval', every: '5s' } });
    expect(faster.status).toBe(422);
    expect((await env.call('POST', '/api/v1/schedules', { auth: caller['system-admin'], body: { name: 'platform-fast', kind: 'interval', every: '5s', job: JOB_NAMES.documentsTick } })).status).toBe(201);
  });

  it('caps each tenant at SCHEDULES_MAX_PER_TENANT, also under concurrent creates (409)', async () => {
    const tenant = 'capped-co';
    const auth = bearer(await token('tenant-admin', tenant));
    const results = await Promise.all(Array.from({ length: 26 }, (_, i) =>
      env.call('POST', '/api/v1/schedules', { auth, body: { name: `cap-${i}`, kind: 'cron', cron: `${i} 6 * * *`, job: JOB_NAMES.recurrenceCleanup } })));
    expect(results.map((r) => r.status).sort()).toEqual([...Array(20).fill(201), ...Array(6).fill(409)]);
    const refused = results.find((r) => r.status === 409)!;
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(refused.json.detail).toMatch(/already has 20 schedules.*SCHEDULES_MAX_PER_TENANT/);
    const [{ n }] = await env.database.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules WHERE company_id = $1', [tenant]);
    expect(n).toBe(20);
  });
});
