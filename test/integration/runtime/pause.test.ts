import type { INestApplication } from '@nestjs/common';
import { JobControl, MetronomeMetrics } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { deferralsOf, JOB, RuntimeHarness } from './runtime-support.js';

async function gauge(app: INestApplication, name: string, queue: string): Promise<number | undefined> {
  const metric = await app.get(MetronomeMetrics).registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => v.labels.queue === queue)?.value;
}

describe('job runtime: pause and resume across workers', () => {
  const h = new RuntimeHarness();
  let w1: INestApplication;
  let w2: INestApplication;

  beforeAll(async () => {
    await h.start();
    w1 = await h.app({ worker: 'w1', concurrency: 2 });
    w2 = await h.app({ worker: 'w2', concurrency: 2 });
  });
  afterAll(() => h.stop());

  it('pauses a queue on both worker processes within a second, keeps its work queued without charging attempts, and resumes it', async () => {
    const c1 = w1.get(JobControl);
    const c2 = w2.get(JobControl);
    const t0 = Date.now();
    await c1.pause(JOB.work, { by: 'ops', reason: 'maintenance' });
    await waitFor(() => c1.isPaused(JOB.work) && c2.isPaused(JOB.work), { what: 'both workers paused', intervalMs: 5 });
    const seen = Date.now() - t0;
    console.log(`pause: both workers saw the pause ${seen} ms after it was written to the control bucket`);
    expect(seen).toBeLessThan(1_000);
    expect(await gauge(w1, 'metronome_queue_paused', JOB.work)).toBe(1);
    expect(await gauge(w2, 'metronome_queue_paused', JOB.work)).toBe(1);
    expect(await gauge(w2, 'metronome_queue_paused_since_seconds', JOB.work)).toBeGreaterThan(Date.now() / 1000 - 60);

    await h.publishMany(Array.from({ length: 20 }, (_, i) => ({ job: JOB.work, payload: { sleepMs: 20, label: 'p' }, runId: `p-${i}`, companyId: `t${i % 3}` })));
    // Another queue keeps running.
    await h.publish(JOB.hold, { sleepMs: 10 }, { runId: 'other-1' });
    await waitFor(async () => (await h.run('other-1'))?.state === 'succeeded', { what: 'an unpaused job' });
    await sleep(2_500);
    expect(await h.log(`job = 'rt.work'`)).toHaveLength(0);
    const info = await h.jsm.consumers.info('JOBS', 'rt-jobs-normal');
    expect(info.num_pending + info.num_ack_pending).toBe(20); // still queued, nothing lost

    const t1 = Date.now();
    await c2.resume(JOB.work);
    await waitFor(async () => (await h.log(`job = 'rt.work' AND kind = 'end'`)).length === 20, { what: 'the paused work after resume' });
    console.log(`resume: 20 held runs finished ${Date.now() - t1} ms after the resume`);
    expect(await gauge(w1, 'metronome_queue_paused', JOB.work)).toBe(0);
    // A run's outcome is committed (batched) after its handler returns and before its ack: wait for the history, not only the effect.
    // Parked while paused, the runs were never charged an attempt: each one's history is one attempt, succeeded.
    const runsOf = () => h.database.query<{ run_id: string; outcome: string; attempt: number }>(`SELECT run_id, outcome, attempt FROM job_attempts WHERE job = 'rt.work'`);
    await waitFor(async () => (await runsOf()).length >= 20, { what: 'the 20 outcomes recorded' });
    await sleep(200);
    const runs = await runsOf();
    expect(runs).toHaveLength(20);
    expect(new Set(runs.map((r) => r.run_id)).size).toBe(20);
    expect(runs.every((r) => r.outcome === 'succeeded' && r.attempt === 1)).toBe(true);
    const starts = await h.log(`job = 'rt.work' AND kind = 'start'`);
    expect(new Set(starts.map((s) => s.run_id)).size).toBe(20);
    expect(new Set(starts.map((s) => s.worker))).toEqual(new Set(['w1', 'w2']));
  });

  it('stops pulling a paused priority lane on both workers (its backlog stays undelivered in the stream, nothing is handed back), keeps other lanes running, and pulls it all at once on resume', async () => {
    const c1 = w1.get(JobControl);
    const c2 = w2.get(JobControl);
    const BACKLOG = 3_000; // more than the parking of either worker (1,000)
    const deferredBefore = (await deferralsOf(w1, JOB.work, 'paused')) + (await deferralsOf(w2, JOB.work, 'paused'));
    await c1.pauseQueue('normal', { by: 'ops', reason: 'maintenance' });
    await waitFor(() => c1.isQueuePaused('normal') && c2.isQueuePaused('normal'), { what: 'both workers paused the lane', intervalMs: 5 });
    await h.publishMany(Array.from({ length: BACKLOG }, (_, i) => ({ job: JOB.work, payload: { sleepMs: 1, label: 'lane' }, runId: `q-${i}`, companyId: `t${i % 7}` })));
    // Another lane keeps running.
    await h.publish(JOB.hold, { sleepMs: 10 }, { runId: 'other-high', priority: 'high' });
    await waitFor(async () => (await h.run('other-high'))?.state === 'succeeded', { what: 'a job of another lane' });
    await sleep(2_500);
    expect(await h.log(`label = 'lane'`)).toHaveLength(0);
    const info = await h.jsm.consumers.info('JOBS', 'rt-jobs-normal');
    // Not pulled at all: no message of the lane is held by a worker or waiting to be redelivered.
    expect({ pending: info.num_pending, held: info.num_ack_pending }).toEqual({ pending: BACKLOG, held: 0 });
    expect((await deferralsOf(w1, JOB.work, 'paused')) + (await deferralsOf(w2, JOB.work, 'paused'))).toBe(deferredBefore);

    const t1 = Date.now();
    await c2.resumeQueue('normal');
    await waitFor(async () => (await h.log(`label = 'lane' AND kind = 'end'`)).length >= BACKLOG, { what: 'the lane\'s backlog after resume', timeoutMs: 60_000 });
    console.log(`queue pause: ${BACKLOG} runs of the paused lane finished ${Date.now() - t1} ms after the resume`);
    const runsOf = () => h.database.query<{ outcome: string; attempt: number; n: number }>(
      `SELECT outcome, attempt, count(*)::int n FROM job_attempts WHERE run_id LIKE 'q-%' GROUP BY outcome, attempt`,
    );
    await waitFor(async () => (await runsOf())[0]?.n === BACKLOG, { what: 'the lane\'s outcomes recorded' });
    expect(await runsOf()).toEqual([{ outcome: 'succeeded', attempt: 1, n: BACKLOG }]);
    const starts = await h.log(`label = 'lane' AND kind = 'start'`);
    expect(new Set(starts.map((s) => s.run_id)).size).toBe(BACKLOG);
    expect(starts).toHaveLength(BACKLOG);
  });
});
