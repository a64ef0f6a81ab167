import type { INestApplication } from '@nestjs/common';
import { JobEnqueuer, JobEnqueuerModule } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: bulk enqueue with idempotency keys', () => {
  const h = new RuntimeHarness();
  let app: INestApplication;

  beforeAll(async () => {
    await h.start();
    app = await h.app({ imports: [JobEnqueuerModule] });
  });
  afterAll(() => h.stop());

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
    await waitFor(async () => (await h.log(`kind = 'end'`)).length === 4, { what: 'four runs' });
    await sleep(1_000);
    const starts = await h.log(`kind = 'start'`);
    expect(starts.map((s) => s.label).sort()).toEqual(['k1', 'k2', 'k3', 'k4']);
    const runs = await h.database.query<{ state: string; attempts: number }>(`SELECT state, attempts FROM job_runs`);
    expect(runs).toHaveLength(4);
    expect(runs.every((r) => r.state === 'succeeded' && r.attempts === 1)).toBe(true);
  });
});
