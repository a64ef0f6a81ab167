import { JobControl } from '../../libs/common/src/index.js';
import { OVERFLOW_REDELIVERIES_PER_S } from '../../libs/common/src/jobs/runtime/overflow-spread.js';
import { sleep, waitFor } from '../support/wait.js';
import { deferralsOf, JOB, RuntimeHarness } from '../integration/runtime/runtime-support.js';
import { scenario } from './support/recorder.js';

/**
 * Scenario 15: a job paused with a backlog far larger than the worker's parking (1,000 deliveries). Before the
 * paused overflow was spread (runtime/overflow-spread.ts), every message beyond the parking came back each
 * JOB_PAUSED_RECHECK_MS: 30,000 of them made 26,743 deferrals a second while paused (each a ledger note and a
 * nak), the worker's CPU was saturated, and another job's first start waited 15.2 s behind the wave.
 */
const BACKLOG = Number(process.env.RT_PAUSED_BACKLOG ?? 30_000);
const HANDLER_MS = 5;
const SLOTS = 8;
const WINDOW_MS = 10_000;

describe('fault suite: a paused job with a 30,000-job backlog', () => {
  const h = new RuntimeHarness();

  beforeAll(async () => {
    await h.start();
  });
  afterAll(() => h.stop());

  it(`keeps ${BACKLOG} jobs of a paused job queued without churning through them, lets other jobs start at once, and runs each once after the resume`, async () => {
    await scenario('15 paused-job-backlog', async (counts) => {
      const app = await h.app({ concurrency: SLOTS });
      const control = app.get(JobControl);
      await control.pause(JOB.work, { by: 'ops', reason: 'maintenance' });
      await waitFor(() => control.isPaused(JOB.work), { what: 'the pause to be seen' });
      await h.publishMany(Array.from({ length: BACKLOG }, (_, i) => ({ job: JOB.work, payload: { sleepMs: HANDLER_MS, label: 'paused' }, runId: `p-${i}`, companyId: `t${i % 50}` })));
      counts.messages = BACKLOG + 5;

      // Past the first read of the backlog, how often the paused messages come back.
      await sleep(5_000);
      const before = await deferralsOf(app, JOB.work, 'paused');
      const t0 = Date.now();
      await sleep(WINDOW_MS);
      const perSecond = Math.round((await deferralsOf(app, JOB.work, 'paused')) - before) / ((Date.now() - t0) / 1000);

      const waits: number[] = [];
      for (let i = 0; i < 5; i++) {
        const sent = Date.now();
        await h.publish(JOB.hold, { sleepMs: 10 }, { runId: `o-${i}`, companyId: 'tenant-b' });
        const start = await waitFor(async () => (await h.log(`kind = 'start' AND run_id = $1`, [`o-${i}`]))[0], { what: `other job ${i} to start`, timeoutMs: 60_000 });
        waits.push(start.at.getTime() - sent);
      }
      expect(await h.log(`job = 'rt.work'`)).toHaveLength(0);
      // Still queued, nothing lost: once the other jobs are acked, every paused one is pending, held or deferred.
      const queued = async () => {
        const info = await h.jsm.consumers.info('JOBS', 'rt-jobs-normal');
        return info.num_pending + info.num_ack_pending;
      };
      await waitFor(async () => (await queued()) === BACKLOG, { what: 'the other jobs acked', timeoutMs: 10_000 }).catch(() => undefined);
      expect(await queued()).toBe(BACKLOG);

      const resumed = Date.now();
      await control.resume(JOB.work);
      const recorded = async () => Number((await h.database.query<{ n: string }>(`SELECT count(*) n FROM job_attempts WHERE job = 'rt.work'`))[0].n);
      await waitFor(async () => (await recorded()) >= BACKLOG, { what: 'every paused run to finish after the resume', timeoutMs: 300_000, intervalMs: 500 });
      const resumeMs = Date.now() - resumed;
      await sleep(500);
      const attempts = await h.database.query<{ outcome: string; attempt: number; n: number }>(
        `SELECT outcome, attempt, count(*)::int n FROM job_attempts WHERE job = 'rt.work' GROUP BY outcome, attempt`,
      );
      const starts = await h.database.query<{ runs: number; starts: number }>(`SELECT count(DISTINCT run_id)::int runs, count(*)::int starts FROM rt_log WHERE job = 'rt.work' AND kind = 'start'`);
      counts.lost = BACKLOG - starts[0].runs;
      counts.duplicated = starts[0].starts - starts[0].runs;
      counts.notes = `${Math.round(perSecond)} paused deferrals/s while paused; other jobs started after ${waits.join('/')} ms; all ${BACKLOG} finished ${resumeMs} ms after the resume`;
      console.log(`paused backlog: ${counts.notes}`);

      // Near the spread's rate, not the backlog once per recheck (26,743/s before).
      expect(perSecond).toBeLessThan(5 * OVERFLOW_REDELIVERIES_PER_S);
      const sorted = [...waits].sort((x, y) => x - y);
      expect(sorted[2]).toBeLessThanOrEqual(500);
      expect(sorted[4]).toBeLessThanOrEqual(2_000);
      // Deferred while paused, never charged an attempt; each run once.
      expect(attempts).toEqual([{ outcome: 'succeeded', attempt: 1, n: BACKLOG }]);
      expect(starts[0]).toEqual({ runs: BACKLOG, starts: BACKLOG });
    });
  }, 480_000);
});
