import { freePort } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { sleep, waitFor } from '../../support/wait.js';
import { insertSchedule, SCHEDULER_ENTRY, SchedulerTestEnv } from './scheduler-support.js';

describe('SIGKILL of the scheduler between claim and publish', () => {
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

  const start = async (extra: Record<string, string> = {}) => {
    const p = new ServiceProcess(SCHEDULER_ENTRY, {
      ...env.env,
      SCHEDULER_PORT: String(await freePort()),
      SCHEDULER_POLL_MS: '50',
      NATS_PROVISION_ON_START: 'false',
      TICK_INTERVAL_MS: '3600000',
      ...extra,
    }).start();
    running.push(p);
    return p;
  };
  const run = async (scheduleId: string) =>
    (await env.database.query<{ id: string; state: string; published_at: Date | null }>(`SELECT id, state, published_at FROM job_runs WHERE schedule_id = $1`, [scheduleId]));

  /** Whether the run's outbox row was published (the stream acknowledged it). */
  const published = async (runId: string) =>
    (await env.database.query<{ published_at: Date | null }>(`SELECT published_at FROM outbox WHERE run_id = $1`, [runId]))[0]?.published_at != null;

  it('publishes the claimed occurrence once after the restart', async () => {
    const due = new Date(Date.now() + 4_000);
    const id = await insertSchedule(env.database, { name: 'one-off', kind: 'once', job: 'crash.work', runAt: due, nextFireAt: due });

    const doomed = await start({ FAULT_CRASH_AFTER_CLAIM: '1' });
    // On a slow start the claim (and the kill) may come before the "started" line.
    await doomed.exited;
    expect(doomed.text).toContain('FAULT_CRASH_AFTER_CLAIM');

    // Claimed and committed, never published. A run claimed ahead of its due instant is written scheduled, one
    // claimed at or after it queued: which one depends on how long the process took to start on this host.
    const planned = await run(id);
    expect(planned).toHaveLength(1);
    expect(['scheduled', 'queued']).toContain(planned[0].state);
    expect(await published(planned[0].id)).toBe(false);
    expect(await env.messages('jobs.normal.crash.work')).toHaveLength(0);
    expect((await env.database.query<{ next_fire_at: Date | null }>('SELECT next_fire_at FROM schedules WHERE id = $1', [id]))[0].next_fire_at).toBeNull();

    const healthy = await start();
    await healthy.waitForLog('scheduler started');
    await waitFor(() => published(planned[0].id), { what: 'run republished by the relay' });
    const queued = await run(id);
    expect(queued).toEqual([expect.objectContaining({ id: planned[0].id, state: 'queued' })]);
    const messages = await env.messages('jobs.normal.crash.work');
    expect(messages.map((m) => m.id)).toEqual([planned[0].id]);

    // A relay that publishes again (its mark was lost) is absorbed by JetStream's dedup on the run id.
    await env.database.query(`UPDATE outbox SET published_at = NULL WHERE run_id = $1`, [planned[0].id]);
    await waitFor(async () => (await env.database.query(`SELECT 1 FROM outbox WHERE run_id = $1 AND published_at IS NOT NULL`, [planned[0].id])).length === 1, { what: 'republished' });
    await sleep(500);
    expect(await env.messages('jobs.normal.crash.work')).toHaveLength(1);
    await healthy.stop();
  }, 120_000);
});
