import type { INestApplication } from '@nestjs/common';
import { JobEnqueuer, JobEnqueuerModule } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: what enqueue leaves behind', () => {
  const h = new RuntimeHarness();
  let app: INestApplication;

  beforeAll(async () => {
    await h.start();
    app = await h.app({ imports: [JobEnqueuerModule] });
  });
  afterAll(() => h.stop());

  it('writes due runs queued and delayed ones scheduled, group-commits concurrent calls, and records when the stream stored each', async () => {
    const enqueuer = app.get(JobEnqueuer);
    const due = await Promise.all(Array.from({ length: 40 }, (_, i) => enqueuer.enqueue(JOB.work, { label: `due-${i}` }, { companyId: 'acme' })));
    const delayed = await enqueuer.enqueue(JOB.work, { label: 'later' }, { companyId: 'acme', delayMs: 45_000 });
    expect(new Set(due.map((r) => r.runId)).size).toBe(40);
    expect(due.every((r) => r.created && r.state === 'queued')).toBe(true);
    expect(delayed.state).toBe('scheduled');

    const states = await h.database.query<{ id: string; state: string }>(`SELECT id, state FROM job_runs WHERE id = ANY($1)`, [[...due.map((r) => r.runId), delayed.runId]]);
    const byId = new Map(states.map((s) => [s.id, s.state]));
    // Never scheduled once enqueue returned: queued, or already taken by the worker.
    for (const r of due) expect(['queued', 'running', 'succeeded']).toContain(byId.get(r.runId));
    expect(byId.get(delayed.runId)).toBe('scheduled');

    await waitFor(async () => (await h.log(`kind = 'end'`)).length === 40, { what: 'forty runs' });
    const runs = await h.database.query<{ state: string; attempts: number; published_at: Date | null; started_at: Date; created_at: Date }>(
      `SELECT state, attempts, published_at, started_at, created_at FROM job_runs WHERE id = ANY($1)`,
      [due.map((r) => r.runId)],
    );
    expect(runs).toHaveLength(40);
    for (const r of runs) {
      expect(r).toMatchObject({ state: 'succeeded', attempts: 1 });
      expect(r.published_at).not.toBeNull();
      expect(r.published_at!.getTime()).toBeGreaterThanOrEqual(r.created_at.getTime() - 1_000);
      expect(r.published_at!.getTime()).toBeLessThanOrEqual(r.started_at.getTime());
    }
    // The outbox rows are marked in the background, every one of them.
    await waitFor(
      async () => (await h.database.query<{ n: string }>(`SELECT count(*) n FROM outbox WHERE run_id = ANY($1) AND published_at IS NOT NULL`, [due.map((r) => r.runId)]))[0].n === '40',
      { what: 'outbox rows marked published' },
    );
    const unpublished = await h.database.query(`SELECT 1 FROM outbox WHERE run_id = $1 AND published_at IS NULL`, [delayed.runId]);
    expect(unpublished).toHaveLength(1);
  });
});
