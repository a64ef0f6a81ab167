import { waitFor, sleep } from '../../support/wait.js';
import { JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: priorities under a backlog', () => {
  const h = new RuntimeHarness();

  beforeAll(async () => {
    await h.start();
    // One slot: the worker is always busy, so the order of starts is the dispatcher's choice.
    await h.app({ concurrency: 1, env: { JOB_TENANT_BUFFER: '500' } });
  });
  afterAll(() => h.stop());

  it('takes waiting critical work first while a low backlog is running, and low keeps a bounded share', async () => {
    const lows = Array.from({ length: 60 }, (_, i) => ({ job: JOB.work, payload: { sleepMs: 40, label: 'low' }, runId: `low-${i}`, priority: 'low' as const }));
    await h.publishMany(lows);
    await waitFor(async () => (await h.log(`kind = 'start' AND label = 'low'`)).length >= 5, { what: 'the low backlog to be running' });
    const lowsBefore = (await h.log(`kind = 'start' AND label = 'low'`)).length;
    await h.publishMany(Array.from({ length: 5 }, (_, i) => ({ job: JOB.work, payload: { sleepMs: 40, label: 'critical' }, runId: `crit-${i}`, priority: 'critical' as const })));
    await waitFor(async () => (await h.log(`kind = 'end' AND label = 'critical'`)).length === 5, { what: 'critical runs' });
    const starts = await h.log(`kind = 'start'`);
    const lastCritical = Math.max(...starts.map((s, i) => (s.label === 'critical' ? i : -1)));
    const firstCritical = starts.findIndex((s) => s.label === 'critical');
    const lowsBetween = starts.slice(firstCritical, lastCritical + 1).filter((s) => s.label === 'low').length;
    const lowsWaiting = 60 - (await h.log(`kind = 'start' AND label = 'low'`)).length;
    console.log(`priority: 5 critical runs published behind ${60 - lowsBefore} waiting low runs started as dispatches ${firstCritical + 1}..${lastCritical + 1}, ` +
      `with ${lowsBetween} low run(s) in between; ${lowsWaiting} low runs still waiting after the last critical`);
    // The critical runs go next: at most the one low already running plus one low turn per 8 critical ones.
    expect(firstCritical - lowsBefore).toBeLessThanOrEqual(2);
    expect(lowsBetween).toBeLessThanOrEqual(1);
    expect(lowsWaiting).toBeGreaterThan(40);

    // Starvation: a flood of critical work still leaves low a share (weights 8:4:2:1 -> 1 in 9).
    const mark = starts.length;
    await h.publishMany(Array.from({ length: 90 }, (_, i) => ({ job: JOB.work, payload: { sleepMs: 5, label: 'flood' }, runId: `flood-${i}`, priority: 'critical' as const })));
    await waitFor(async () => (await h.log(`kind = 'end' AND label = 'flood'`)).length === 90, { what: 'the critical flood' });
    const during = (await h.log(`kind = 'start'`)).slice(mark);
    const window = during.slice(0, during.findIndex((s, i) => s.label === 'flood' && during.slice(i + 1).every((x) => x.label !== 'flood')) + 1);
    const lowInFlood = window.filter((s) => s.label === 'low').length;
    console.log(`priority: while 90 critical runs were waiting, low got ${lowInFlood} of ${window.length} dispatches (weight share 1/9)`);
    expect(lowInFlood).toBeGreaterThanOrEqual(5);
    expect(lowInFlood).toBeLessThanOrEqual(20);
    await waitFor(async () => (await h.log(`kind = 'end' AND label = 'low'`)).length === 60, { what: 'every low run', timeoutMs: 30_000 });
    // Every run once, on its first attempt, as the history records it (written in batches before each ack).
    const outcomes = () => h.database.query<{ outcome: string; attempt: number; n: string }>(`SELECT outcome, attempt, count(*) n FROM job_attempts GROUP BY outcome, attempt`);
    await waitFor(async () => (await outcomes()).reduce((n, r) => n + Number(r.n), 0) >= 155, { what: 'the 155 outcomes recorded' });
    await sleep(200);
    expect(await outcomes()).toEqual([{ outcome: 'succeeded', attempt: 1, n: '155' }]);
    expect(await h.database.query(`SELECT count(DISTINCT run_id)::int n FROM job_attempts`)).toEqual([{ n: 155 }]);
  });
});
