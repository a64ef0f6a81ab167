import { RuntimeHarness, tenantFairness } from '../integration/runtime/runtime-support.js';
import { scenario } from './support/recorder.js';

/**
 * Scenario 10: the tenant-fairness property of test/integration/runtime/fairness.test.ts at production scale — a
 * backlog of 100,000 jobs of one tenant (RT_FAIRNESS_BACKLOG overrides) against the default tenant buffer of 256.
 */
const BACKLOG = Number(process.env.RT_FAIRNESS_BACKLOG ?? 100_000);
const HANDLER_MS = 200;

describe('fault suite: tenant fairness under a 100,000-job backlog', () => {
  const h = new RuntimeHarness();

  beforeAll(async () => {
    await h.start();
  });
  afterAll(() => h.stop());

  it(`a tenant with ${BACKLOG} queued jobs delays another tenant's single job by about one handler duration, and its deferred jobs are not charged an attempt`, async () => {
    await scenario('10 tenant-fairness-backlog', async (counts) => {
      const f = await tenantFairness(h, { backlog: BACKLOG, handlerMs: HANDLER_MS, tenantBuffer: 256, readTimeoutMs: 240_000 });
      const sorted = [...f.waits].sort((x, y) => x - y);
      counts.messages = BACKLOG + 5;
      counts.notes = `published in ${f.publishMs} ms, read after ${f.readMs} ms; other tenants waited ${f.waits.join('/')} ms ` +
        `(max ${(sorted[4] / HANDLER_MS).toFixed(2)} handler durations); tenant-a ${f.aRate}/s; ${f.aChecked} tenant-a runs attempt 1 (${f.deferredChecked}+ deferred first)`;
      console.log(`fairness: ${counts.notes}`);
    });
  }, 420_000);
});
