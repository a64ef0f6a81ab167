import { afterAll, describe, expect, it } from '@jest/globals';
import { FaultEnv, FAULT_JOB } from './support/harness.js';
import { scenario } from './support/recorder.js';
import { insertSchedule } from './support/scheduler.js';
import { freePort } from '../support/nats-server.js';
import { ServiceProcess } from '../support/service-process.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Scenario 9: mixed load with random faults, ending in a reconciliation that
 * counts every job. Load: a producer publishing jobs of varied length
 * straight to JOBS, and a scheduler process firing one-second schedules into
 * the same job, three fault workers consuming. Faults, one every 2-6 s, at
 * random: a worker SIGKILLed (and replaced), a worker SIGSTOPped for 3 s
 * (past the ack wait), the NATS server restarted, every Postgres backend of
 * the services terminated, the scheduler SIGKILLed (and replaced).
 *
 * `npm run test:soak` runs it for SOAK_MINUTES (default 10); `npm run
 * test:faults` runs a one-minute form.
 */
const MINUTES = Number(process.env.SOAK_MINUTES ?? 1);
const LOAD_MS = MINUTES * 60_000;
const SCHEDULES = 5;

describe('mixed-load soak with random faults', () => {
  const env = new FaultEnv(2_000);
  let scheduler: ServiceProcess | undefined;
  afterAll(async () => {
    scheduler?.kill('SIGKILL');
    await scheduler?.exited;
    await env.stop();
  });

  it(`9: ${MINUTES} min of mixed load and random faults; every job counted once`, async () => {
    await env.start();
    await scenario(`9 soak-${MINUTES}min`, async (c) => {
      const startScheduler = async () => {
        scheduler = new ServiceProcess('apps/scheduler/src/main.js', {
          NATS_URLS: env.nats.url,
          DATABASE_URL: env.database.url,
          SCHEDULER_PORT: String(await freePort()),
          SCHEDULER_POLL_MS: '50',
          TICK_INTERVAL_MS: '3600000',
          INSTANCE_ID: 'scheduler',
        }).start();
        await scheduler.waitForLog('scheduler started', 60_000);
      };
      await startScheduler();
      const workers = [await env.worker(), await env.worker(), await env.worker()];

      const later = new Date(Date.now() + 3_600_000);
      const scheduleIds: string[] = [];
      for (let i = 0; i < SCHEDULES; i++) {
        scheduleIds.push(await insertSchedule(env.database, { name: `soak-${i}`, kind: 'interval', job: FAULT_JOB, intervalMs: 1_000, startsAt: new Date(0), nextFireAt: later }));
      }
      const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1_000);
      await env.database.query(`UPDATE schedules SET next_fire_at = $1, missed_policy = 'fire_all' WHERE id = ANY($2)`, [start, scheduleIds]);

      const direct = new Map<string, string>();
      let producing = true;
      const producer = (async () => {
        for (let i = 0; producing; i++) {
          const key = `soak-${i}`;
          const payload = i % 50 === 0 ? { key, holdMs: 3_000 } : { key, sleepMs: Math.floor(Math.random() * 150) };
          direct.set(key, await env.publish(payload, { retryForMs: 60_000 }));
          await sleep(20);
        }
      })();

      const injected: Record<string, number> = {};
      const faults: [string, () => Promise<void>][] = [
        ['worker SIGKILL', async () => {
          const i = Math.floor(Math.random() * workers.length);
          workers[i].kill('SIGKILL');
          await workers[i].exited;
          workers[i] = await env.worker({}, false);
        }],
        ['worker SIGSTOP 3s', async () => {
          const w = workers[Math.floor(Math.random() * workers.length)];
          w.kill('SIGSTOP');
          await sleep(3_000);
          w.kill('SIGCONT');
        }],
        ['NATS restart', async () => {
          await env.nats.stop();
          await sleep(2_000);
          await env.nats.start(env.nats.port);
        }],
        ['pg backends terminated', async () => {
          await env.database.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'metronome'`);
        }],
        ['scheduler SIGKILL', async () => {
          scheduler!.kill('SIGKILL');
          await scheduler!.exited;
          await startScheduler();
        }],
      ];
      const until = Date.now() + LOAD_MS;
      while (Date.now() < until) {
        await sleep(2_000 + Math.random() * 4_000);
        const [name, inject] = faults[Math.floor(Math.random() * faults.length)];
        await inject();
        injected[name] = (injected[name] ?? 0) + 1;
        c.faults++;
      }
      producing = false;
      await producer;
      await env.database.query('UPDATE schedules SET enabled = false WHERE id = ANY($1)', [scheduleIds]);
      await waitFor(async () => (await env.database.query<{ n: string }>('SELECT count(*) n FROM outbox WHERE published_at IS NULL'))[0].n === '0', {
        timeoutMs: 60_000, what: 'outbox drained',
      });

      // Reconciliation: every direct job and every scheduled occurrence.
      const scheduled = await env.database.query<{ id: string; schedule_id: string; occurrence_at: Date }>(
        'SELECT id, schedule_id, occurrence_at FROM job_runs WHERE schedule_id = ANY($1) ORDER BY schedule_id, occurrence_at',
        [scheduleIds],
      );
      const jobs = new Map(direct);
      for (const r of scheduled) jobs.set(r.id, r.id);
      const r = await env.settle(jobs, 180_000);
      let gaps = 0;
      let doubles = 0;
      for (const id of scheduleIds) {
        const times = scheduled.filter((s) => s.schedule_id === id).map((s) => s.occurrence_at.getTime());
        const distinct = new Set(times).size;
        doubles += times.length - distinct;
        if (times.length) gaps += Math.round((times[times.length - 1] - start.getTime()) / 1000) + 1 - distinct;
      }
      c.messages = jobs.size + gaps;
      c.lost = r.lost.length + gaps;
      c.duplicated = r.duplicated.length + doubles;
      c.notes = `${direct.size} direct jobs, ${scheduled.length} scheduled runs; ${r.executions} executions; faults ${JSON.stringify(injected)}; states ${JSON.stringify(r.states)}`;
      expect(r.lost.slice(0, 10)).toEqual([]);
      expect(r.duplicated).toEqual([]);
      expect(gaps).toBe(0);
      expect(doubles).toBe(0);
      expect(scheduled.length).toBeGreaterThan(SCHEDULES * (LOAD_MS / 1000) * 0.8);
    });
  }, LOAD_MS + 400_000);
});
