import { waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness, tenantFairness } from './runtime-support.js';

/** 15 x the worker's tenant buffer: it defers most of the backlog. The 100,000-job version is in test/faults/fairness.test.ts. */
const BACKLOG = 1_000;
const TENANT_BUFFER = 64;
const HANDLER_MS = 200;

describe('job runtime: tenant fairness', () => {
  const h = new RuntimeHarness();

  beforeAll(async () => {
    await h.start();
  });
  afterAll(() => h.stop());

  it(`a tenant with ${BACKLOG} queued jobs delays another tenant's single job by about one handler duration, and its deferred jobs are not charged an attempt`, async () => {
    const f = await tenantFairness(h, { backlog: BACKLOG, handlerMs: HANDLER_MS, tenantBuffer: TENANT_BUFFER, readTimeoutMs: 30_000 });
    const sorted = [...f.waits].sort((x, y) => x - y);
    console.log(`fairness: ${BACKLOG} tenant-a jobs published in ${f.publishMs} ms, read by the worker after ${f.readMs} ms; ` +
      `another tenant's single job started after ${f.waits.join(', ')} ms (median ${sorted[2]} ms, max ${sorted[4]} ms = ${(sorted[4] / HANDLER_MS).toFixed(2)} handler durations); ` +
      `tenant-a kept ${f.aRate} starts/s; ${f.aChecked} tenant-a runs all attempt 1, at least ${f.deferredChecked} of them deferred first`);
  });
});

/**
 * Several tenants flooding at once: the worker holds each one's buffer and defers the rest, so it keeps reading
 * past all of them (a priority lane holds eight tenant buffers) and a quiet tenant's job is reached at once. A lane
 * that filled with two floods would stop the reader there, and the quiet job would wait behind every flood.
 */
describe('job runtime: tenant fairness with three tenants flooding', () => {
  const FLOODS = ['tenant-a', 'tenant-b', 'tenant-c'];
  const EACH = 600;
  const BUFFER = 256;
  const SLOTS = 4;
  const FLOOD_HANDLER_MS = 500;
  const h = new RuntimeHarness();

  beforeAll(async () => {
    await h.start();
  });
  afterAll(() => h.stop());

  const floodStarts = async () => Number((await h.database.query<{ n: string }>(`SELECT count(*) n FROM rt_log WHERE kind = 'start' AND run_id LIKE 'f-%'`))[0].n);

  it('reads past three backlogs (3 x 256 held, more than two buffers) to a fourth tenant\'s job published behind them, and starts it before theirs', async () => {
    await h.app({ concurrency: SLOTS, env: { JOB_TENANT_BUFFER: String(BUFFER) } });
    const total = EACH * FLOODS.length;
    await h.publishMany(Array.from({ length: total }, (_, i) => ({ job: JOB.work, payload: { sleepMs: FLOOD_HANDLER_MS, label: 'flood' }, runId: `f-${i}`, companyId: FLOODS[i % FLOODS.length] })));
    await h.publish(JOB.work, { sleepMs: FLOOD_HANDLER_MS, label: 'single' }, { runId: 'd-1', companyId: 'tenant-d' });
    await waitFor(async () => (await h.log(`kind = 'start' AND run_id = 'd-1'`)).length === 1, { what: 'tenant-d\'s job to start', timeoutMs: 60_000 });
    // Flood jobs that started before it: those the slots took while the worker read past the backlogs. Were the
    // reader stopped at a full lane, it would reach the job only as slots freed (4 every 500 ms): hundreds.
    expect(await floodStarts()).toBeLessThanOrEqual(SLOTS * 20);
  });
});
