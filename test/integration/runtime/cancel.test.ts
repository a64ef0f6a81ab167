import type { INestApplication } from '@nestjs/common';
import { JobControl, LiveRuns, RunCanceller } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: cancellation', () => {
  const h = new RuntimeHarness();
  let w1: INestApplication;
  let w2: INestApplication;

  beforeAll(async () => {
    await h.start();
    w1 = await h.app({ worker: 'w1' });
    w2 = await h.app({ worker: 'w2' });
  });
  afterAll(() => h.stop());

  it('aborts a running handler\'s signal and ends the run cancelled, never retried', async () => {
    await h.publish(JOB.hold, { sleepMs: 60_000 }, { runId: 'c-1', companyId: 'acme' });
    // Running, with its progress, as the workers' heartbeats list it.
    await waitFor(async () => (await w1.get(LiveRuns).findRunning('c-1'))?.progress === 40, { what: 'c-1 running' });
    const t0 = Date.now();
    // Another tenant cannot cancel it.
    expect(await w1.get(RunCanceller).cancel('c-1', { companyId: 'other' })).toBeNull();
    expect(await w1.get(RunCanceller).cancel('c-1', { companyId: 'acme' })).toBe('running');
    const aborted = await waitFor(async () => (await h.log(`run_id = 'c-1' AND kind = 'aborted'`))[0], { what: 'the handler to see its signal abort' });
    console.log(`cancel: the running handler saw its signal abort ${aborted.at.getTime() - t0} ms after the cancel`);
    expect(aborted.note).toBe('CancelledError');
    const run = await waitFor(async () => {
      const r = await h.run('c-1');
      return r?.state === 'cancelled' && r.finished_at ? r : undefined;
    }, { what: 'c-1 cancelled' }) as Record<string, any>;
    expect(run.error).toContain('cancel');
    await sleep(1_500);
    expect(await h.log(`run_id = 'c-1' AND kind = 'start'`)).toHaveLength(1);
    expect((await h.run('c-1')).state).toBe('cancelled');
    expect(await h.database.query(`SELECT 1 FROM dead_letters WHERE id = 'c-1'`)).toHaveLength(0);
  });

  it('settles a queued run that was cancelled without running it', async () => {
    await h.database.query(`INSERT INTO job_runs (id, job, queue, company_id, priority, state, scheduled_for) VALUES ('c-2', 'rt.hold', 'normal', 'acme', 'normal', 'queued', now())`);
    expect(await w1.get(RunCanceller).cancel('c-2')).toBe('queued');
    // Workers learn of a cancellation from the control bucket, a few milliseconds later: once both hold it, the
    // message that arrives is settled without its handler (one arriving in that gap starts and is aborted at once).
    await waitFor(() => [w1, w2].every((w) => w.get(JobControl).isCancelled('c-2', 'acme')), { what: 'both workers to hold the cancellation' });
    await h.publish(JOB.hold, { sleepMs: 10 }, { runId: 'c-2', companyId: 'acme' });
    await waitFor(async () => {
      const info = await h.jsm.consumers.info('JOBS', 'rt-jobs-normal');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: 'the cancelled message to be settled' });
    expect(await h.log(`run_id = 'c-2'`)).toHaveLength(0);
    expect((await h.run('c-2')).state).toBe('cancelled');
    expect(await w1.get(RunCanceller).cancel('c-2')).toBeNull(); // already finished
  });

  it('cancels a run enqueued straight to JetStream while it waits, and only for its own tenant', async () => {
    // Both workers busy with long handlers, so the next run waits in the stream.
    await h.publishMany([1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ job: JOB.hold, payload: { sleepMs: 3_000 }, runId: `busy-${i}`, companyId: 'acme' })));
    await h.publish(JOB.hold, { sleepMs: 10, label: 'waiting' }, { runId: 'c-3', companyId: 'acme' });
    expect(await w1.get(RunCanceller).cancel('c-3', { companyId: 'other' })).toBeNull();
    expect(await w1.get(RunCanceller).cancel('c-3', { companyId: 'acme' })).toBe('queued');
    const run = (await waitFor(async () => ((await h.run('c-3'))?.state === 'cancelled' ? h.run('c-3') : undefined), { what: 'c-3 cancelled', timeoutMs: 20_000 }))!;
    expect(run.attempts).toBe(1);
    expect(await h.log(`run_id = 'c-3' AND kind = 'start'`)).toHaveLength(0);
    expect(await w1.get(RunCanceller).cancel('c-3', { companyId: 'acme' })).toBeNull();
  });
});
