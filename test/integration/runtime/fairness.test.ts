import { RuntimeHarness, tenantFairness } from './runtime-support.js';

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
