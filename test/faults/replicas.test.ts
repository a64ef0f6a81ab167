import { afterAll, describe, expect, it } from '@jest/globals';
import { scenario } from './support/recorder.js';
import { beginAt, countOccurrences, schedulerProcess, secondSchedules, SchedulerTestEnv } from './support/scheduler.js';
import type { ServiceProcess } from '../support/service-process.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Scenario 6: three scheduler replicas over one-second schedules, one of them
 * SIGKILLed at random every 1.5-4 s and replaced, for CHAOS_MS (60 s; several
 * minutes with FAULTS_LONG=1). Every occurrence must be planned once, published
 * once and stored once.
 */
const LONG = process.env.FAULTS_LONG === '1';
const CHAOS_MS = LONG ? 5 * 60_000 : 60_000;
const SCHEDULES = 20;
const JOB = 'faultchaos.work';

describe('scheduler replicas killed at random', () => {
  const env = new SchedulerTestEnv();
  const all: ServiceProcess[] = [];
  afterAll(async () => {
    for (const p of all) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await env.stop();
  });

  it(`6: every occurrence exactly once while replicas are SIGKILLed for ${CHAOS_MS / 1000} s`, async () => {
    await env.start();
    await scenario(`6 scheduler-replicas-killed${LONG ? '-long' : ''}`, async (c) => {
      const ids = await secondSchedules(env, JOB, SCHEDULES);
      let n = 0;
      const spawn = async () => {
        const p = await schedulerProcess(env, `scheduler-${++n}`);
        all.push(p);
        return p;
      };
      const replicas = [await spawn(), await spawn(), await spawn()];
      await Promise.all(replicas.map((p) => p.waitForLog('scheduler started', 60_000)));
      const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2_000);
      await beginAt(env, ids, start);
      const until = Date.now() + CHAOS_MS;
      while (Date.now() < until) {
        await sleep(1_500 + Math.random() * 2_500);
        const i = Math.floor(Math.random() * replicas.length);
        replicas[i].kill('SIGKILL');
        await replicas[i].exited;
        c.faults++;
        replicas[i] = await spawn();
      }
      // Calm: every replica up, let them catch up, then stop firing and let the relay drain.
      await Promise.all(replicas.map((p) => p.waitForLog('scheduler started', 60_000)));
      await sleep(3_000);
      await env.database.query('UPDATE schedules SET enabled = false WHERE id = ANY($1)', [ids]);
      await waitFor(async () => {
        const left = await env.database.query<{ n: string }>(
          `SELECT count(*) n FROM outbox o JOIN job_runs r ON r.id = o.run_id WHERE r.schedule_id = ANY($1) AND o.published_at IS NULL`,
          [ids],
        );
        return Number(left[0].n) === 0;
      }, { timeoutMs: 60_000, what: 'outbox drained' });
      await sleep(2_000);
      await Promise.all(replicas.map((p) => p.stop()));
      const count = await countOccurrences(env, ids, JOB, start);
      c.messages = count.expected;
      c.lost = count.lost;
      c.duplicated = count.duplicated;
      c.notes = `${c.faults} SIGKILLs over ${CHAOS_MS / 1000} s; ${count.runs} runs of ${SCHEDULES} schedules, ${count.messages} messages`;
      expect(count.detail).toEqual([]);
      expect(count.runs).toBe(count.expected);
      // Roughly one occurrence per schedule and second of the run.
      expect(count.expected).toBeGreaterThan(SCHEDULES * (CHAOS_MS / 1000) * 0.8);
      expect(count.lost).toBe(0);
      expect(count.duplicated).toBe(0);
    });
  }, CHAOS_MS + 180_000);
});
