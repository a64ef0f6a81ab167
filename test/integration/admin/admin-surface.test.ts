import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONSUMER_DECLARATIONS, JOB_NAMES, PRIORITIES, provision, STREAM_DECLARATIONS, subjects } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { AdminEnv, expectProblem, LEDGER_EXPORT, OTHER, REPORTS, TENANT } from './support.js';

/**
 * The admin surface the seeds list, over HTTP against the built scheduler
 * with real credentials, on real NATS and Postgres; the jobs run in a
 * `reports` service on the production job runtime in this process. The job
 * list and trigger, retry and delete of runs, emptying a queue, the workers,
 * priorities as names or numbers, per-priority consumers, concurrency from
 * configuration and the seed's retry defaults.
 */
const env = new AdminEnv();

beforeAll(async () => {
  await env.boot({ JOB_CONCURRENCY_SCHEDULER: '3' }, { JOB_CONCURRENCY: '5' });
  // The scheduler follows the catalog: wait until it lists the reports worker's jobs.
  await waitFor(async () => (await env.call('GET', `/api/v1/jobs/${REPORTS.idle}`, { auth: env.auth.admin })).status === 200, { what: 'reports jobs in the catalog' });
}, 120_000);

afterAll(async () => {
  await env.shutdown();
});

const jobsOf = async (auth: Record<string, string>) => {
  const res = await env.call('GET', '/api/v1/jobs', { auth });
  expect(res.status).toBe(200);
  return new Map<string, any>(res.json.items.map((j: any) => [j.job, j]));
};

describe('the job list and trigger', () => {
  it('lists every declared handler, with no schedule and no run, and triggers it at its declared priority', async () => {
    const all = await jobsOf(env.auth.admin);
    // Every handler of the reports worker, the scheduler's own, and a service that runs nowhere but declared its job.
    for (const job of [...Object.values(REPORTS), JOB_NAMES.schedulerRetention, LEDGER_EXPORT]) expect(all.has(job)).toBe(true);
    expect(all.get(REPORTS.idle)).toMatchObject({
      schedules: 0, nextRunAt: null, lastRun: null, status: 'active', triggerable: true,
      declaration: { service: 'reports', platform: false, tenantSchedulable: false, priority: 'high', maxAttempts: 3 },
    });

    const run = await env.call('POST', `/api/v1/jobs/${REPORTS.idle}/trigger`, { auth: env.auth.admin, body: { companyId: TENANT } });
    expect(run.status).toBe(202);
    const done = await waitFor(async () => ((await env.run(run.json.runId))?.state === 'succeeded' ? env.run(run.json.runId) : null), { what: 'the idle job ran' });
    expect(done).toMatchObject({ job: REPORTS.idle, companyId: TENANT, priority: 'high', attempts: 1 });
    const listed = await waitFor(async () => {
      const j = (await jobsOf(env.auth.admin)).get(REPORTS.idle);
      return j?.counts.succeeded === 1 ? j : null;
    }, { what: 'the run counted in the list' });
    expect(listed.lastRun).toMatchObject({ id: run.json.runId, state: 'succeeded', companyId: TENANT });
    expect((await env.call('GET', `/api/v1/jobs/${REPORTS.idle}`, { auth: env.auth.admin })).json.counts).toMatchObject({ succeeded: 1 });
  });

  it('shows tenant roles what they may run, refuses platform jobs to them, and counts only their tenant', async () => {
    const mine = await jobsOf(env.auth.tenant);
    expect(mine.has(REPORTS.platform)).toBe(false);
    expect(mine.has(JOB_NAMES.schedulerRetention)).toBe(false);
    expect(mine.get(REPORTS.build)).toMatchObject({ triggerable: true });
    expect(mine.get(REPORTS.idle)).toMatchObject({ triggerable: false });
    expect((await jobsOf(env.auth.viewer)).get(REPORTS.build)).toMatchObject({ triggerable: false });
    expect((await jobsOf(env.auth.other)).get(REPORTS.idle).counts.succeeded).toBeUndefined();

    for (const [auth, job] of [[env.auth.tenant, REPORTS.platform], [env.auth.service, REPORTS.platform], [env.auth.tenant, JOB_NAMES.schedulerRetention], [env.auth.tenant, REPORTS.idle]] as const) {
      expectProblem(await env.call('POST', `/api/v1/jobs/${job}/trigger`, { auth, body: {} }), 403);
    }
    expectProblem(await env.call('GET', `/api/v1/jobs/${REPORTS.platform}`, { auth: env.auth.tenant }), 404);
    expect((await env.call('POST', `/api/v1/jobs/${REPORTS.platform}/trigger`, { auth: env.auth.admin, body: {} })).status).toBe(202);
  });

  it('takes priorities as names or the seed numbers 1/5/10/15 on triggers and schedules, and refuses others', async () => {
    for (const [given, lane] of [[1, 'critical'], ['15', 'low'], ['high', 'high'], [10, 'normal']] as const) {
      const res = await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: { priority: given } });
      expect(res.status).toBe(202);
      const run = await waitFor(async () => ((await env.run(res.json.runId, env.auth.tenant))?.state === 'succeeded' ? env.run(res.json.runId, env.auth.tenant) : null), { what: `run at ${given}` });
      expect([given, run.priority]).toEqual([given, lane]);
    }
    for (const bad of [2, 'urgent', 0, 16]) expectProblem(await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: { priority: bad } }), 400);

    const s = await env.call('POST', '/api/v1/schedules', { auth: env.auth.tenant, body: { name: 'nightly-report', kind: 'cron', cron: '0 3 * * *', job: REPORTS.build, priority: 5 } });
    expect(s.status).toBe(201);
    expect(s.json.options).toMatchObject({ priority: 'high', maxAttempts: 3 });
    const patched = await env.call('PATCH', `/api/v1/schedules/${s.json.id}`, { auth: env.auth.tenant, body: { priority: 1 } });
    expect([patched.status, patched.json.options?.priority]).toEqual([200, 'critical']);
    expectProblem(await env.call('PATCH', `/api/v1/schedules/${s.json.id}`, { auth: env.auth.tenant, body: { priority: 3 } }), 400);
  });
});

describe('runs: retry and delete', () => {
  async function finished(runId: string, state: string, auth = env.auth.tenant) {
    return waitFor(async () => {
      const r = await env.run(runId, auth);
      return r?.state === state ? r : null;
    }, { what: `run ${runId} ${state}` });
  }

  it('retries a failed run and a dead one as new runs linked to them, once, within the tenant, audited', async () => {
    const failed = (await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: { payload: { mode: 'failure' } } })).json.runId;
    const dead = (await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: { payload: { mode: 'throw' } } })).json.runId;
    const ok = (await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: {} })).json.runId;
    await finished(failed, 'failed');
    await finished(dead, 'dead');
    await finished(ok, 'succeeded');

    expectProblem(await env.call('POST', `/api/v1/runs/${failed}/retry`, { auth: env.auth.other }), 404);
    expectProblem(await env.call('POST', `/api/v1/runs/${failed}/retry`, { auth: env.auth.viewer }), 403);
    expectProblem(await env.call('POST', `/api/v1/runs/${ok}/retry`, { auth: env.auth.tenant }), 409);

    for (const [id, state, viaDeadLetter] of [[failed, 'failed', false], [dead, 'dead', true]] as const) {
      const res = await env.call('POST', `/api/v1/runs/${id}/retry`, { auth: env.auth.tenant });
      expect(res.status).toBe(202);
      expect(res.json).toMatchObject({ id, job: REPORTS.build });
      expect(res.json.deadLetterId !== null).toBe(viaDeadLetter);
      // Same job, tenant and payload, fresh attempts; it fails the same way, linked to the run it retries.
      const again = await finished(res.json.newRunId, state);
      expect(again).toMatchObject({ retryOf: id, companyId: TENANT, attempts: 1, payload: { mode: state === 'failed' ? 'failure' : 'throw' } });
      expectProblem(await env.call('POST', `/api/v1/runs/${id}/retry`, { auth: env.auth.tenant }), 409);
    }
    const [{ retried_at }] = await env.database.query<{ retried_at: Date | null }>('SELECT retried_at FROM dead_letters WHERE run_id = $1', [dead]);
    expect(retried_at).not.toBeNull();
    const audited = (await env.audits('run.retry')).map((a) => [a.targetId, a.companyId, a.actor]);
    expect(audited).toEqual(expect.arrayContaining([[failed, TENANT, `tenant-admin-${TENANT}`], [dead, TENANT, `tenant-admin-${TENANT}`]]));
  });

  it('deletes a finished run with its attempts and planned row, and refuses one still running (409)', async () => {
    const slow = (await env.call('POST', `/api/v1/jobs/${REPORTS.slow}/trigger`, { auth: env.auth.tenant, body: {} })).json.runId;
    await finished(slow, 'running');
    expectProblem(await env.call('DELETE', `/api/v1/runs/${slow}`, { auth: env.auth.tenant }), 409);
    expect((await env.call('POST', `/api/v1/runs/${slow}/cancel`, { auth: env.auth.tenant })).status).toBe(200);
    await finished(slow, 'cancelled');

    const failed = (await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: { payload: { mode: 'failure' } } })).json.runId;
    await finished(failed, 'failed');
    // A planned run (delayed: a job_runs row), run and finished.
    const planned = (await env.call('POST', `/api/v1/jobs/${REPORTS.build}/trigger`, { auth: env.auth.tenant, body: { delayMs: 1 } })).json.runId;
    await finished(planned, 'succeeded');

    expectProblem(await env.call('DELETE', `/api/v1/runs/${failed}`, { auth: env.auth.other }), 404);
    expectProblem(await env.call('DELETE', `/api/v1/runs/${failed}`, { auth: env.auth.viewer }), 403);
    for (const id of [failed, planned, slow]) {
      const res = await env.call('DELETE', `/api/v1/runs/${id}`, { auth: env.auth.tenant });
      expect(res.status).toBe(200);
      expect(res.json.deleted.attempts).toBeGreaterThanOrEqual(1);
      expectProblem(await env.call('GET', `/api/v1/runs/${id}`, { auth: env.auth.tenant }), 404);
      const [{ n }] = await env.database.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM job_attempts WHERE run_id = $1) + (SELECT count(*) FROM job_runs WHERE id = $1) + (SELECT count(*) FROM outbox WHERE run_id = $1) AS n`, [id]);
      expect(Number(n)).toBe(0);
    }
    expectProblem(await env.call('DELETE', `/api/v1/runs/${failed}`, { auth: env.auth.tenant }), 404);
    const audited = (await env.audits('run.delete')).map((a) => a.targetId);
    expect(audited).toEqual(expect.arrayContaining([failed, planned, slow]));
  });

  it('retries with the seed defaults when a job sets none: 3 attempts, exponential backoff from 2 s, then a dead letter', async () => {
    const res = await env.call('POST', `/api/v1/jobs/${REPORTS.flaky}/trigger`, { auth: env.auth.admin, body: { companyId: TENANT } });
    expect(res.status).toBe(202);
    const dead = await waitFor(async () => ((await env.run(res.json.runId))?.state === 'dead' ? env.run(res.json.runId) : null), { timeoutMs: 30_000, what: 'flaky dead after its attempts' });
    const attempts = dead.attemptHistory as { attempt: number; outcome: string; startedAt: string; finishedAt: string }[];
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'retrying'], [2, 'retrying'], [3, 'dead']]);
    const gap = (i: number) => Date.parse(attempts[i].startedAt) - Date.parse(attempts[i - 1].finishedAt);
    // A redelivery never comes before its backoff (no jitter by default): 2 s, then 4 s.
    expect(gap(1)).toBeGreaterThanOrEqual(2_000);
    expect(gap(2)).toBeGreaterThanOrEqual(4_000);
    const [letter] = await env.database.query<{ reason: string; attempts: number }>('SELECT reason, attempts FROM dead_letters WHERE run_id = $1', [res.json.runId]);
    expect(letter).toEqual({ reason: 'attempts_exhausted', attempts: 3 });
  });
});

describe('emptying a queue', () => {
  it('needs a platform administrator and the queue named in "confirm"; removes the waiting messages and cancels unpublished planned runs, audited', async () => {
    const trigger = (body: Record<string, unknown>) => env.call('POST', `/api/v1/jobs/${LEDGER_EXPORT}/trigger`, { auth: env.auth.admin, body: { companyId: TENANT, ...body } });
    for (let i = 0; i < 3; i++) expect((await trigger({ priority: 'low', payload: { i } })).status).toBe(202);
    expect((await trigger({ priority: 'normal' })).status).toBe(202);
    const later = await trigger({ priority: 15, delayMs: 3_600_000 });
    expect(later.json.state).toBe('scheduled');
    await waitFor(async () => (await env.waiting(`jobs.*.${LEDGER_EXPORT}`))[`jobs.low.${LEDGER_EXPORT}`] === 3, { what: 'three low ledger jobs waiting' });
    const listed = await env.call('GET', `/api/v1/jobs/${LEDGER_EXPORT}`, { auth: env.auth.admin });
    expect(listed.json.counts).toMatchObject({ queued: 4, scheduled: 1 });

    expectProblem(await env.call('POST', '/api/v1/queues/low/empty', { auth: env.auth.admin, body: {} }), 400);
    expectProblem(await env.call('POST', '/api/v1/queues/low/empty', { auth: env.auth.admin, body: { confirm: 'normal' } }), 400);
    expectProblem(await env.call('POST', '/api/v1/queues/low/empty', { auth: env.auth.tenant, body: { confirm: 'low' } }), 403);
    expectProblem(await env.call('POST', '/api/v1/queues/low/empty', { auth: env.auth.service, body: { confirm: 'low' } }), 403);
    expectProblem(await env.call('POST', '/api/v1/queues/urgent/empty', { auth: env.auth.admin, body: { confirm: 'urgent' } }), 404);
    expect((await env.waiting(`jobs.low.${LEDGER_EXPORT}`))[`jobs.low.${LEDGER_EXPORT}`]).toBe(3);

    const emptied = await env.call('POST', '/api/v1/queues/low/empty', { auth: env.auth.admin, body: { confirm: 'low' } });
    expect(emptied.status).toBe(200);
    expect(emptied.json).toEqual({ target: 'queue', name: 'low', subject: 'jobs.low.>', removed: 3, cancelledPlanned: 1, recalled: 3 });
    expect(await env.waiting(`jobs.*.${LEDGER_EXPORT}`)).toEqual({ [`jobs.normal.${LEDGER_EXPORT}`]: 1 });
    const [row] = await env.database.query<{ state: string; outbox: number }>(
      'SELECT state, (SELECT count(*)::int FROM outbox WHERE run_id = $1) AS outbox FROM job_runs WHERE id = $1', [later.json.runId]);
    expect(row).toEqual({ state: 'cancelled', outbox: 0 });

    expectProblem(await env.call('POST', `/api/v1/jobs/${LEDGER_EXPORT}/empty`, { auth: env.auth.admin, body: { confirm: 'low' } }), 400);
    const job = await env.call('POST', `/api/v1/jobs/${LEDGER_EXPORT}/empty`, { auth: env.auth.admin, body: { confirm: LEDGER_EXPORT } });
    expect(job.json).toMatchObject({ target: 'job', subject: `jobs.*.${LEDGER_EXPORT}`, removed: 1, cancelledPlanned: 0, recalled: 1 });
    expect(await env.waiting(`jobs.*.${LEDGER_EXPORT}`)).toEqual({});
    expect((await env.call('GET', `/api/v1/jobs/${LEDGER_EXPORT}`, { auth: env.auth.admin })).json.counts.queued).toBeUndefined();

    const audits = [...(await env.audits('queue.empty')), ...(await env.audits('job.empty'))];
    expect(audits.map((a) => [a.action, a.targetId, a.actor, a.after.removed])).toEqual([['queue.empty', 'low', 'system-admin-all', 3], ['job.empty', LEDGER_EXPORT, 'system-admin-all', 1]]);
  });
  it('settles cancelled, never runs, the jobs a worker had already pulled and held when the queue was emptied', async () => {
    // With the job paused (a paused lane is not pulled at all), the reports worker pulls the low jobs and parks them in memory.
    expect((await env.call('POST', `/api/v1/jobs/${REPORTS.idle}/pause`, { auth: env.auth.admin, body: {} })).status).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await env.call('POST', `/api/v1/jobs/${REPORTS.idle}/trigger`, { auth: env.auth.admin, body: { companyId: TENANT, priority: 'low' } })).json.runId);
    await waitFor(async () => {
      const reports = (await env.call('GET', '/api/v1/workers', { auth: env.auth.admin })).json.items.find((w: any) => w.service === 'reports');
      return reports?.waiting >= 3;
    }, { what: 'the reports worker holding the three low jobs' });
    const emptied = await env.call('POST', '/api/v1/queues/low/empty', { auth: env.auth.admin, body: { confirm: 'low' } });
    expect(emptied.json).toMatchObject({ removed: 3, recalled: 3 });
    expect((await env.call('POST', `/api/v1/jobs/${REPORTS.idle}/resume`, { auth: env.auth.admin, body: {} })).status).toBe(200);
    for (const id of ids) {
      const run = await waitFor(async () => {
        const r = await env.run(id);
        return r && r.state !== 'queued' && r.state !== 'running' ? r : null;
      }, { what: `held run ${id} settled` });
      expect([id, run.state]).toEqual([id, 'cancelled']);
    }
  });
});

describe('workers and consumers', () => {
  it('lists each worker process with its jobs, concurrency from configuration, in-flight work and heartbeat age', async () => {
    const slow = (await env.call('POST', `/api/v1/jobs/${REPORTS.slow}/trigger`, { auth: env.auth.tenant, body: {} })).json.runId;
    const workers = await waitFor(async () => {
      const res = await env.call('GET', '/api/v1/workers', { auth: env.auth.admin });
      const reports = res.json.items.find((w: any) => w.service === 'reports');
      return reports?.running.some((r: any) => r.runId === slow) ? res.json.items : null;
    }, { what: 'the reports worker running the slow job' });
    const reports = workers.find((w: any) => w.service === 'reports');
    const scheduler = workers.find((w: any) => w.service === 'scheduler');
    // JOB_CONCURRENCY=5 for this worker; JOB_CONCURRENCY_SCHEDULER=3 for the scheduler's own job runtime.
    expect(reports).toMatchObject({ concurrency: 5, pid: process.pid, inFlight: 1, stale: false, jobs: expect.arrayContaining(Object.values(REPORTS)) });
    expect(scheduler).toMatchObject({ concurrency: 3, jobs: [JOB_NAMES.schedulerRetention], stale: false });
    for (const w of [reports, scheduler]) expect(w.heartbeatAgeMs).toBeLessThan(30_000);
    expect(reports.running.find((r: any) => r.runId === slow)).toMatchObject({ job: REPORTS.slow, companyId: TENANT, attempt: 1 });
    for (const auth of [env.auth.tenant, env.auth.viewer, env.auth.service]) expectProblem(await env.call('GET', '/api/v1/workers', { auth }), 403);
    expectProblem(await env.call('GET', '/api/v1/workers'), 401);
    await env.call('POST', `/api/v1/runs/${slow}/cancel`, { auth: env.auth.tenant });
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const paths = Object.keys((await env.call('GET', '/api/docs-json')).json.paths);
    expect(paths).toEqual(expect.arrayContaining([
      '/api/v1/workers', '/api/v1/runs/{id}/retry', '/api/v1/runs/{id}', '/api/v1/queues/{queue}/empty', '/api/v1/jobs/{job}/empty',
    ]));
  });

  it('gives every service four per-priority job consumers and replaces an old single consumer without losing its waiting jobs', async () => {
    const jobConsumers = CONSUMER_DECLARATIONS.filter((c) => c.stream === 'JOBS');
    for (const service of ['scheduler', 'documents', 'recurrence', 'notifier']) {
      expect(jobConsumers.filter((c) => c.durable.startsWith(`${service}-`)).map((c) => c.durable).sort())
        .toEqual(PRIORITIES.map((p) => subjects.jobConsumer(service, p)).sort());
      // As the scheduler provisioned them at its start.
      for (const p of PRIORITIES) expect((await env.jsm.consumers.info('JOBS', subjects.jobConsumer(service, p))).config.filter_subject).toBe(`jobs.${p}.${service}.>`);
    }

    // An installation from before: recurrence's single consumer with a job waiting on it.
    for (const p of PRIORITIES) await env.jsm.consumers.delete('JOBS', subjects.jobConsumer('recurrence', p));
    await env.jsm.consumers.add('JOBS', { durable_name: 'recurrence-jobs', filter_subject: 'jobs.*.recurrence.>', ack_policy: 'explicit' as never });
    await env.nc.request(`jobs.critical.${JOB_NAMES.recurrenceCleanup}`, '{}', { timeout: 5_000 });
    const report = await provision(env.jsm, STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, { replicas: 1, ackWaitMs: 30_000 });
    expect(report.created).toEqual(expect.arrayContaining([expect.stringMatching(/^removed retired consumer JOBS\/recurrence-jobs/), 'consumer JOBS/recurrence-jobs-critical']));
    await expect(env.jsm.consumers.info('JOBS', 'recurrence-jobs')).rejects.toThrow();
    expect((await env.jsm.consumers.info('JOBS', 'recurrence-jobs-critical')).num_pending).toBe(1);
  });
});
