import type { INestApplication } from '@nestjs/common';
import { JobControl } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: cancellation', () => {
  const h = new RuntimeHarness();
  let w1: INestApplication;

  beforeAll(async () => {
    await h.start();
    w1 = await h.app({ worker: 'w1' });
    await h.app({ worker: 'w2' });
  });
  afterAll(() => h.stop());

  it('aborts a running handler\'s signal and ends the run cancelled, never retried', async () => {
    await h.publish(JOB.hold, { sleepMs: 60_000 }, { runId: 'c-1', companyId: 'acme' });
    await waitFor(async () => (await h.run('c-1'))?.progress === 40, { what: 'c-1 running' });
    const t0 = Date.now();
    // Another tenant cannot cancel it.
    expect(await w1.get(JobControl).cancel('c-1', { companyId: 'other' })).toBeNull();
    expect(await w1.get(JobControl).cancel('c-1', { companyId: 'acme' })).toBe('running');
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
    expect(await w1.get(JobControl).cancel('c-2')).toBe('queued');
    await h.publish(JOB.hold, { sleepMs: 10 }, { runId: 'c-2', companyId: 'acme' });
    await waitFor(async () => {
      const info = await h.jsm.consumers.info('JOBS', 'rt-jobs-normal');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: 'the cancelled message to be settled' });
    expect(await h.log(`run_id = 'c-2'`)).toHaveLength(0);
    expect((await h.run('c-2')).state).toBe('cancelled');
    expect(await w1.get(JobControl).cancel('c-2')).toBeNull(); // already finished
  });
});
