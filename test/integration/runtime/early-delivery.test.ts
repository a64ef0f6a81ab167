import type { INestApplication } from '@nestjs/common';
import { JobRuntime, MAX_EARLY_HOLD_MS, MetronomeMetrics } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

async function deferrals(app: INestApplication, reason: string): Promise<number> {
  const metric = await app.get(MetronomeMetrics).registry.getSingleMetric('metronome_job_deferrals_total')!.get();
  return metric.values.filter((v) => v.labels.reason === reason && v.labels.job === JOB.work).reduce((n, v) => n + v.value, 0);
}

describe('job runtime: a job delivered before its scheduled time', () => {
  const h = new RuntimeHarness();
  let worker: INestApplication;

  beforeAll(async () => {
    await h.start();
    worker = await h.app({ worker: 'w1', concurrency: 4 });
  });
  afterAll(() => h.stop());

  it('waits in memory (not in a slot, no attempt counted) and starts at its scheduled time, not before', async () => {
    const at = new Date(Date.now() + 2_500);
    await h.publishMany(['a', 'b', 'c'].map((t) => ({ job: JOB.work, payload: { label: 'early' }, runId: `early-${t}`, companyId: t, scheduledFor: at })));
    await h.publish(JOB.work, { label: 'now' }, { runId: 'due-now', companyId: 'a' });
    // Held while it is early, and what is due meanwhile runs past it.
    await waitFor(() => worker.get(JobRuntime).stats().early === 3, { what: 'three early messages held' });
    await waitFor(async () => (await h.run('due-now'))?.state === 'succeeded', { what: 'the job due now' });
    expect(await h.log(`label = 'early'`)).toHaveLength(0);
    expect((await h.run('early-a'))).toBeUndefined(); // no attempt counted while held

    await waitFor(async () => (await h.database.query(`SELECT 1 FROM job_attempts WHERE run_id LIKE 'early-%' AND outcome = 'succeeded'`)).length === 3, { what: 'the early jobs succeeded', timeoutMs: 15_000 });
    const starts = await h.log(`label = 'early' AND kind = 'start'`);
    expect(starts).toHaveLength(3);
    for (const s of starts) expect(s.at.getTime()).toBeGreaterThanOrEqual(at.getTime());
    const runs = await h.database.query<{ attempts: number; started_at: Date; scheduled_for: Date }>(`SELECT attempt AS attempts, started_at, scheduled_for FROM job_attempts WHERE run_id LIKE 'early-%'`);
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      expect(r.attempts).toBe(1);
      expect(r.scheduled_for.getTime()).toBe(at.getTime());
      expect(r.started_at.getTime()).toBeGreaterThanOrEqual(at.getTime());
    }
    expect(worker.get(JobRuntime).stats().early).toBe(0);
    expect(await deferrals(worker, 'not_due')).toBe(0);
  });

  it('a planned run (a job_runs row, as the scheduler writes) starts on time, counts each attempt once and records its outcome on its row', async () => {
    const at = new Date(Date.now() + 2_000);
    const runs = [
      { id: 'planned-ok', job: JOB.work, payload: { label: 'planned' } },
      { id: 'planned-retry', job: JOB.slow, payload: { label: 'planned', overrunAttempts: 1 } },
    ];
    for (const r of runs) {
      await h.database.query(
        `INSERT INTO job_runs (id, job, queue, company_id, state, attempts, max_attempts, payload, scheduled_for) VALUES ($1, $2, 'normal', 'a', 'queued', 0, 3, $3, $4)`,
        [r.id, r.job, JSON.stringify(r.payload), at],
      );
      await h.publish(r.job, r.payload, { runId: r.id, companyId: 'a', scheduledFor: at, planned: true });
    }
    await waitFor(() => worker.get(JobRuntime).stats().early === 2, { what: 'two planned runs held' });
    const done = () => h.database.query<{ id: string; state: string; attempts: number; started_at: Date; finished_at: Date | null }>(
      `SELECT id, state, attempts, started_at, finished_at FROM job_runs WHERE id LIKE 'planned-%' ORDER BY id`,
    );
    await waitFor(async () => (await done()).every((r) => r.state === 'succeeded'), { what: 'both planned runs succeeded', timeoutMs: 15_000 });
    const [ok, retried] = await done();
    expect(ok).toMatchObject({ id: 'planned-ok', attempts: 1 });
    expect(retried).toMatchObject({ id: 'planned-retry', attempts: 2 });
    const starts = await h.log(`label = 'planned' AND kind = 'start'`);
    expect(starts.map((s) => [s.run_id, s.attempt]).sort()).toEqual([['planned-ok', 1], ['planned-retry', 1], ['planned-retry', 2]]);
    for (const s of starts) expect(s.at.getTime()).toBeGreaterThanOrEqual(at.getTime());
  });

  it(`one due more than ${MAX_EARLY_HOLD_MS / 1000} s ahead goes back to the stream until then, and still runs once, on time`, async () => {
    const at = new Date(Date.now() + MAX_EARLY_HOLD_MS + 2_000);
    await h.publish(JOB.work, { label: 'far' }, { runId: 'far-1', companyId: 'a', scheduledFor: at });
    await waitFor(async () => (await deferrals(worker, 'not_due')) === 1, { what: 'the far message deferred' });
    expect(worker.get(JobRuntime).stats().early).toBe(0);
    await waitFor(async () => (await h.run('far-1'))?.state === 'succeeded', { what: 'the far job succeeded', timeoutMs: 20_000 });
    const [start] = await h.log(`run_id = 'far-1' AND kind = 'start'`);
    expect(start.at.getTime()).toBeGreaterThanOrEqual(at.getTime());
    expect((await h.run('far-1')).attempts).toBe(1);
  });
});
