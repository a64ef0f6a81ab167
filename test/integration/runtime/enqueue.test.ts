import type { INestApplication } from '@nestjs/common';
import { JobEnqueuer, JobEnqueuerModule } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

/** What JobEnqueuer does with due, delayed and keyed runs (one worker app that also enqueues). */
describe('job runtime: enqueue', () => {
  const h = new RuntimeHarness();
  let app: INestApplication;

  beforeAll(async () => {
    await h.start();
    app = await h.app({ imports: [JobEnqueuerModule] });
  });
  afterAll(() => h.stop());

  it('sends due runs straight to JetStream (no row before the handler), plans delayed ones, group-commits concurrent calls, and records when the stream stored each', async () => {
    const enqueuer = app.get(JobEnqueuer);
    const called = Date.now();
    const due = await Promise.all(Array.from({ length: 40 }, (_, i) => enqueuer.enqueue(JOB.work, { label: `due-${i}` }, { companyId: 'acme' })));
    const delayed = await Promise.all(Array.from({ length: 10 }, (_, i) => enqueuer.enqueue(JOB.work, { label: `later-${i}` }, { companyId: 'acme', delayMs: 45_000 })));
    const dueIds = due.map((r) => r.runId);
    const delayedIds = delayed.map((r) => r.runId);
    expect(new Set(dueIds).size).toBe(40);
    expect(due.every((r) => r.created && r.state === 'queued')).toBe(true);
    expect(new Set(delayedIds).size).toBe(10);
    expect(delayed.every((r) => r.created && r.state === 'scheduled')).toBe(true);

    // Due now: nothing in Postgres, neither a planned row nor an outbox row (the hot path never writes one).
    expect(await h.database.query(`SELECT id FROM job_runs WHERE id = ANY($1)`, [dueIds])).toEqual([]);
    expect(await h.database.query(`SELECT run_id FROM outbox WHERE run_id = ANY($1)`, [dueIds])).toEqual([]);
    // Delayed: every concurrent call planned (job_runs row scheduled, outbox row not yet published).
    const planned = await h.database.query<{ id: string; state: string; scheduled_for: Date }>(`SELECT id, state, scheduled_for FROM job_runs WHERE id = ANY($1)`, [delayedIds]);
    expect(planned).toHaveLength(10);
    for (const r of planned) {
      expect(r.state).toBe('scheduled');
      expect(r.scheduled_for.getTime()).toBeGreaterThanOrEqual(called + 45_000 - 1_000);
    }
    expect(await h.database.query(`SELECT 1 FROM outbox WHERE run_id = ANY($1) AND published_at IS NULL`, [delayedIds])).toHaveLength(10);

    await waitFor(async () => (await h.log(`kind = 'end' AND label LIKE 'due-%'`)).length === 40, { what: 'forty runs' });
    // The history of each due run: one attempt, succeeded, with the time JetStream stored its message.
    const outcomes = () => h.database.query<{ outcome: string; attempt: number; published_at: Date | null; started_at: Date }>(
      `SELECT outcome, attempt, enqueued_at AS published_at, started_at FROM job_attempts WHERE run_id = ANY($1)`,
      [dueIds],
    );
    await waitFor(async () => (await outcomes()).length >= 40, { what: 'forty outcomes recorded' });
    const runs = await outcomes();
    expect(runs).toHaveLength(40);
    for (const r of runs) {
      expect(r).toMatchObject({ outcome: 'succeeded', attempt: 1 });
      expect(r.published_at).not.toBeNull();
      expect(r.published_at!.getTime()).toBeGreaterThanOrEqual(called - 1_000);
      expect(r.published_at!.getTime()).toBeLessThanOrEqual(r.started_at.getTime());
    }
    // Nothing was run of the delayed ones, and still nothing in the stream for them (their relay publishes at their time).
    expect(await h.log(`label LIKE 'later-%'`)).toHaveLength(0);
    expect(await h.database.query(`SELECT 1 FROM job_attempts WHERE run_id = ANY($1)`, [delayedIds])).toHaveLength(0);
    // The due runs were the only messages in JOBS: all gone once acked (a work-queue stream keeps only what waits).
    await waitFor(async () => (await h.jsm.streams.info('JOBS')).state.messages === 0, { what: 'JOBS empty after the acks' });
  });

  it('plans one run per key in one call, returns the same run for a repeated key, and runs each once', async () => {
    const enqueuer = app.get(JobEnqueuer);
    const keys = ['k1', 'k2', 'k1', 'k3', 'k2', 'k1'];
    const first = await enqueuer.enqueueMany(keys.map((k, i) => ({ job: JOB.work, payload: { label: k, sleepMs: 5 }, options: { idempotencyKey: k, companyId: 'acme', priority: i % 2 ? 'high' : 'normal' } })));
    expect(first).toHaveLength(6);
    const byKey = new Map<string, string>();
    keys.forEach((k, i) => {
      if (!byKey.has(k)) byKey.set(k, first[i].runId);
      expect(first[i].runId).toBe(byKey.get(k));
    });
    expect(first.filter((r) => r.created)).toHaveLength(3);
    const again = await enqueuer.enqueueMany(['k3', 'k1', 'k4'].map((k) => ({ job: JOB.work, payload: { label: k }, options: { idempotencyKey: k, companyId: 'acme' } })));
    expect(again[0]).toMatchObject({ runId: byKey.get('k3'), created: false });
    expect(again[1]).toMatchObject({ runId: byKey.get('k1'), created: false });
    expect(again[2].created).toBe(true);
    const ids = [...byKey.values(), again[2].runId];
    await waitFor(async () => (await h.log(`kind = 'end' AND run_id = ANY($1)`, [ids])).length === 4, { what: 'four runs' });
    await sleep(1_000);
    const starts = await h.log(`kind = 'start' AND run_id = ANY($1)`, [ids]);
    expect(starts.map((s) => s.label).sort()).toEqual(['k1', 'k2', 'k3', 'k4']);
    // Keyed runs are planned (job_runs + outbox): their rows record the outcome, as the history does.
    const runs = await h.database.query<{ state: string; attempts: number }>(`SELECT state, attempts FROM job_runs WHERE idempotency_key IS NOT NULL`);
    expect(runs).toHaveLength(4);
    expect(runs.every((r) => r.state === 'succeeded' && r.attempts === 1)).toBe(true);
    const history = await h.database.query<{ outcome: string; attempt: number }>(`SELECT outcome, attempt FROM job_attempts WHERE run_id = ANY($1)`, [ids]);
    expect(history).toEqual(Array.from({ length: 4 }, () => ({ outcome: 'succeeded', attempt: 1 })));
  });
});
