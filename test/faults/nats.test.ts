import { afterAll, describe, expect, it } from '@jest/globals';
import { FaultEnv } from './support/harness.js';
import { scenario } from './support/recorder.js';
import { beginAt, countOccurrences, schedulerProcess, secondSchedules, SchedulerTestEnv } from './support/scheduler.js';
import type { ServiceProcess } from '../support/service-process.js';
import { sleep, waitFor } from '../support/wait.js';

/** Scenarios 3 and 4: the NATS server stopped and started again on the same port and storage. */
describe('NATS outages', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('3: the NATS server stopped and restarted under load: every job done, once', async () => {
    const env = await new FaultEnv(2_000).start();
    cleanups.push(() => env.stop());
    await scenario('3 nats-restart-under-load', async (c) => {
      await env.worker();
      await env.worker();
      const jobs = new Map<string, string>();
      let publishing = true;
      // A producer that keeps publishing (and retries with the same Nats-Msg-Id while the server is away).
      const producer = (async () => {
        for (let i = 0; publishing; i++) {
          const key = `k3-${i}`;
          jobs.set(key, await env.publish({ key, sleepMs: 50 }, { retryForMs: 60_000 }));
          await sleep(10);
        }
      })();
      for (let round = 0; round < 2; round++) {
        await sleep(3_000);
        await env.nats.stop();
        c.faults++;
        await sleep(3_000);
        await env.nats.start(env.nats.port);
      }
      await sleep(3_000);
      publishing = false;
      await producer;
      const r = await env.settle(jobs, 120_000);
      c.messages = r.expected;
      c.lost = r.lost.length;
      c.duplicated = r.duplicated.length;
      c.notes = `${r.executions} executions for ${r.expected} jobs; states ${JSON.stringify(r.states)}`;
      expect(r.lost).toEqual([]);
      expect(r.duplicated).toEqual([]);
      for (const w of env.workers) expect(w.exitCode).toBeNull();
    });
  }, 240_000);

  it('4: NATS down while the scheduler fires: the outbox holds the runs and publishes them after recovery, each once', async () => {
    const env = await new SchedulerTestEnv().start();
    cleanups.push(() => env.stop());
    let scheduler: ServiceProcess | undefined;
    cleanups.push(async () => {
      scheduler?.kill('SIGKILL');
      await scheduler?.exited;
    });
    await scenario('4 nats-down-while-firing', async (c) => {
      const job = 'faultsched.work';
      const ids = await secondSchedules(env, job, 5);
      scheduler = await schedulerProcess(env, 'scheduler-1');
      await scheduler.waitForLog('scheduler started', 60_000);
      const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2_000);
      await beginAt(env, ids, start);
      await sleep(4_000);
      await env.nats.stop();
      c.faults = 1;
      const downAt = Date.now();
      await sleep(8_000);
      // While NATS is away the scheduler keeps planning: runs and outbox rows exist, unpublished.
      const held = await env.database.query<{ n: string }>(
        `SELECT count(*) n FROM outbox o JOIN job_runs r ON r.id = o.run_id WHERE r.schedule_id = ANY($1) AND o.published_at IS NULL`,
        [ids],
      );
      const heldRuns = Number(held[0].n);
      await env.nats.start(env.nats.port);
      const upAt = Date.now();
      await sleep(4_000);
      await env.database.query('UPDATE schedules SET enabled = false WHERE id = ANY($1)', [ids]);
      await waitFor(async () => {
        const left = await env.database.query<{ n: string }>(
          `SELECT count(*) n FROM outbox o JOIN job_runs r ON r.id = o.run_id WHERE r.schedule_id = ANY($1) AND o.published_at IS NULL`,
          [ids],
        );
        return Number(left[0].n) === 0;
      }, { timeoutMs: 60_000, what: 'outbox drained after NATS came back' });
      await sleep(1_000);
      const count = await countOccurrences(env, ids, job, start);
      c.messages = count.expected;
      c.lost = count.lost;
      c.duplicated = count.duplicated;
      c.notes = `${heldRuns} runs held in the outbox during a ${Math.round((upAt - downAt) / 1000)} s outage; ${count.runs} runs, ${count.messages} messages`;
      expect(heldRuns).toBeGreaterThanOrEqual(5 * 5);
      expect(count.detail).toEqual([]);
      expect(count.runs).toBe(count.expected);
      expect(count.lost).toBe(0);
      expect(count.duplicated).toBe(0);
      expect(scheduler.exitCode).toBeNull();
      await scheduler.stop();
    });
  }, 240_000);
});
