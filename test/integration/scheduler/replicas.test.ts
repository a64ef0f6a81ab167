import { freePort } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { sleep } from '../../support/wait.js';
import { insertSchedule, SCHEDULER_ENTRY, SchedulerTestEnv } from './scheduler-support.js';

const SCHEDULES = 60;
const RUN_MS = 8_000;

describe('three scheduler processes over one-second schedules', () => {
  const env = new SchedulerTestEnv();
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    await env.start();
  });

  afterAll(async () => {
    for (const p of running) {
      p.kill('SIGKILL');
      await p.exited;
    }
    await env.stop();
  });

  it('plans and publishes exactly one run per occurrence', async () => {
    const later = new Date(Date.now() + 3_600_000);
    const ids: string[] = [];
    for (let i = 0; i < SCHEDULES; i++) {
      ids.push(
        i % 2 === 0
          ? await insertSchedule(env.database, { name: `every-second-${i}`, kind: 'interval', job: 'replicas.work', intervalMs: 1_000, startsAt: new Date(0), nextFireAt: later })
          : await insertSchedule(env.database, { name: `cron-second-${i}`, kind: 'cron', job: 'replicas.work', cron: '* * * * * *', nextFireAt: later }),
      );
    }
    for (let i = 0; i < 3; i++) {
      const p = new ServiceProcess(SCHEDULER_ENTRY, {
        ...env.env,
        SCHEDULER_PORT: String(await freePort()),
        SCHEDULER_POLL_MS: '50',
        NATS_PROVISION_ON_START: 'false',
        TICK_INTERVAL_MS: '1000',
        INSTANCE_ID: `scheduler-${i + 1}`,
        LOG_LEVEL: 'info',
      }).start();
      running.push(p);
    }
    await Promise.all(running.map((p) => p.waitForLog('scheduler started', 60_000)));
    // First occurrence two seconds from now, when all three are up; fire_all so a stalled host cannot collapse occurrences.
    const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2_000);
    await env.database.query(`UPDATE schedules SET next_fire_at = $1, missed_policy = 'fire_all' WHERE name LIKE '%-second-%'`, [start]);
    await sleep(RUN_MS);
    await env.database.query(`UPDATE schedules SET enabled = false`);
    // Look-ahead claims still publish on time; a run whose eager publish failed is the relay's, a second after due.
    await sleep(3_000);
    await Promise.all(running.map((p) => p.stop()));
    // Nest re-raises SIGTERM after a clean shutdown, so the exit is by signal; nothing may have logged an error.
    for (const p of running) expect(p.text.split('\n').filter((l) => l.includes('"level":50'))).toEqual([]);

    const rows = await env.database.query<{ schedule_id: string; occurrence_at: Date; id: string; state: string }>(
      `SELECT schedule_id, occurrence_at, id, state FROM job_runs WHERE job = 'replicas.work' ORDER BY schedule_id, occurrence_at`,
    );
    const bySchedule = new Map<string, number[]>();
    for (const r of rows) bySchedule.set(r.schedule_id, [...(bySchedule.get(r.schedule_id) ?? []), r.occurrence_at.getTime()]);
    expect(bySchedule.size).toBe(SCHEDULES);
    for (const [, times] of bySchedule) {
      // Consecutive seconds from the first occurrence, none twice and none skipped.
      expect(times[0]).toBe(start.getTime());
      expect(times.length).toBeGreaterThanOrEqual(RUN_MS / 1000 - 4);
      times.forEach((t, i) => expect(t).toBe(start.getTime() + i * 1000));
    }
    expect(rows.every((r) => r.state === 'queued')).toBe(true);

    const messages = await env.messages('jobs.normal.replicas.work');
    expect(messages).toHaveLength(rows.length);
    expect(new Set(messages.map((m) => m.id)).size).toBe(rows.length);
    const runIds = new Set(rows.map((r) => r.id));
    for (const m of messages) expect(runIds.has(m.id)).toBe(true);

    // The tick schedule from code: registered once by three processes, one documents.tick per second.
    const ticks = await env.database.query<{ n: string; d: string }>(
      `SELECT count(*) n, count(DISTINCT occurrence_at) d FROM job_runs WHERE job = 'documents.tick'`,
    );
    expect(Number(ticks[0].n)).toBeGreaterThan(5);
    expect(ticks[0].n).toBe(ticks[0].d);
    expect(await env.messages('jobs.normal.documents.tick')).toHaveLength(Number(ticks[0].n));
    expect(await env.database.query(`SELECT name FROM schedules WHERE source = 'code' ORDER BY name`)).toEqual([
      { name: 'metronome.documents-tick' },
      { name: 'metronome.retention' },
      { name: 'platform.notifier-monthly-report' },
      { name: 'platform.notifier-weekly-digest' },
      { name: 'platform.recurrence-cleanup' },
      { name: 'platform.recurrence-generate' },
    ]);
  }, 120_000);
});
