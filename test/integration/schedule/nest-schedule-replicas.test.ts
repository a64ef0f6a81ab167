import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { CONSUMER_DECLARATIONS, jobConsumerDeclarations, provision, STREAM_DECLARATIONS } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';
import { freePort, TestNatsServer } from '../../support/nats-server.js';
import { ServiceProcess } from '../../support/service-process.js';
import { sleep, waitFor } from '../../support/wait.js';

/**
 * The example reports service (examples/nest-schedule: @Cron('*\/2 * * * * *'),
 * @Interval(1500), @Timeout(1000) and a slow @Interval) as three replica
 * processes under MetronomeScheduleModule, with one scheduler process firing,
 * and the same service as three processes under plain ScheduleModule.
 */
const WINDOW_MS = 20_000;
const ACK_WAIT_MS = 2_000;

interface Row { kind: string; run_id: string | null; occurrence: Date; attempt: number; worker: string; phase: string }

describe('@nestjs/schedule methods on three replicas', () => {
  const nats = new TestNatsServer();
  const database = new TestDatabase();
  let nc: NatsConnection;
  const processes: ServiceProcess[] = [];
  const replicas: ServiceProcess[] = [];

  const rows = (where: string, params: unknown[] = []) =>
    database.query<Row & Record<string, unknown>>(`SELECT kind, run_id, occurrence, attempt, worker, phase FROM report_runs WHERE ${where} ORDER BY at`, params);

  beforeAll(async () => {
    await Promise.all([nats.start(), database.create()]);
    await database.query(`CREATE TABLE report_runs (kind text NOT NULL, run_id text, occurrence timestamptz NOT NULL, attempt int NOT NULL,
      worker text NOT NULL, phase text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    nc = await connect({ servers: nats.url });
    await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, [...CONSUMER_DECLARATIONS, ...jobConsumerDeclarations('reports')], { replicas: 1, ackWaitMs: ACK_WAIT_MS });
    const env = {
      NATS_URLS: nats.url,
      DATABASE_URL: database.url,
      NATS_PROVISION_ON_START: 'false',
      ACK_WAIT_MS: String(ACK_WAIT_MS),
      SHUTDOWN_GRACE_MS: '1000',
      LOG_LEVEL: 'info',
    };
    const scheduler = new ServiceProcess('apps/scheduler/src/main.js', { ...env, SCHEDULER_PORT: String(await freePort()), SCHEDULER_POLL_MS: '100', TICK_INTERVAL_MS: '3600000', INSTANCE_ID: 'scheduler' });
    processes.push(scheduler.start());
    for (let i = 1; i <= 3; i++) {
      const replica = new ServiceProcess('test/fixtures/scheduled-reports.js', { ...env, INSTANCE_ID: `metronome-${i}` });
      replicas.push(replica.start());
      processes.push(replica);
      processes.push(new ServiceProcess('test/fixtures/scheduled-reports-plain.js', { ...env, INSTANCE_ID: `plain-${i}` }).start());
    }
    await Promise.all([scheduler.waitForLog('scheduler started', 60_000), ...processes.slice(1).map((p) => p.waitForLog(' started', 60_000))]);
  }, 90_000);

  afterAll(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await nc?.close();
    await nats.destroy();
    await database.drop();
  });

  it('runs each occurrence of @Cron, @Interval and @Timeout once in total under MetronomeScheduleModule, three times under ScheduleModule', async () => {
    const from = new Date();
    await sleep(WINDOW_MS);
    const to = new Date();
    const metronome = await rows(`worker LIKE 'metronome-%' AND kind IN ('cron', 'interval', 'timeout')`);
    const plain = await rows(`worker LIKE 'plain-%' AND kind IN ('cron', 'interval', 'timeout')`);

    // Metronome: one run per run id, one run id per occurrence, occurrences consecutive, runs spread over the replicas.
    for (const [kind, period] of [['cron', 2_000], ['interval', 1_500]] as const) {
      const runs = metronome.filter((r) => r.kind === kind && r.occurrence >= from && r.occurrence <= new Date(to.getTime() - 3_000));
      const byRun = new Map<string, number>();
      for (const r of runs) byRun.set(r.run_id!, (byRun.get(r.run_id!) ?? 0) + 1);
      expect([...byRun.values()].every((n) => n === 1)).toBe(true);
      const occurrences = runs.map((r) => r.occurrence.getTime()).sort((a, b) => a - b);
      expect(new Set(occurrences).size).toBe(occurrences.length);
      expect(occurrences.length).toBeGreaterThanOrEqual(Math.floor((WINDOW_MS - 3_000) / period) - 1);
      occurrences.slice(1).forEach((t, i) => expect(t - occurrences[i]).toBe(period));
      if (kind === 'cron') occurrences.forEach((t) => expect(t % 2_000).toBe(0));
    }
    expect(new Set(metronome.map((r) => r.worker)).size).toBeGreaterThan(1);
    expect(metronome.filter((r) => r.kind === 'timeout')).toHaveLength(1);

    // Each method also left its history and schedule: job_attempts rows, one schedule per method declared by "reports".
    const schedules = await database.query<{ name: string; kind: string; job: string }>(`SELECT name, kind, job FROM schedules WHERE declared_by = 'reports' ORDER BY name`);
    expect(schedules).toEqual([
      { name: 'reports.export-usage', kind: 'interval', job: 'reports.export-usage' },
      { name: 'reports.refresh-dashboard', kind: 'cron', job: 'reports.refresh-dashboard' },
      { name: 'reports.sync-usage', kind: 'interval', job: 'reports.sync-usage' },
      { name: 'reports.warm-cache', kind: 'once', job: 'reports.warm-cache' },
    ]);
    // The platform's own periodic work is declared the same way, by the scheduler.
    expect(await database.query(`SELECT name, job, scope, timezone FROM schedules WHERE declared_by = 'scheduler' ORDER BY name`)).toEqual([
      { name: 'metronome.retention', job: 'scheduler.retention', scope: 'global', timezone: 'UTC' },
      { name: 'platform.notifier-monthly-report', job: 'notifier.monthly-report', scope: 'per_tenant', timezone: 'tenant' },
      { name: 'platform.notifier-weekly-digest', job: 'notifier.weekly-digest', scope: 'per_tenant', timezone: 'tenant' },
      { name: 'platform.recurrence-cleanup', job: 'recurrence.cleanup', scope: 'per_tenant', timezone: 'tenant' },
      { name: 'platform.recurrence-generate', job: 'recurrence.generate', scope: 'per_tenant', timezone: 'tenant' },
    ]);
    await waitFor(async () => {
      const [{ n }] = await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_attempts WHERE job = 'reports.refresh-dashboard' AND outcome = 'succeeded'`);
      return n >= metronome.filter((r) => r.kind === 'cron').length - 2;
    }, { what: 'history rows of the cron job', timeoutMs: 15_000 });

    // Plain ScheduleModule: every replica runs everything — the timeout three times, each cron second three times.
    expect(plain.filter((r) => r.kind === 'timeout')).toHaveLength(3);
    const cronSeconds = new Map<number, Set<string>>();
    for (const r of plain.filter((r) => r.kind === 'cron' && r.occurrence >= from && r.occurrence <= to)) {
      const s = Math.round(r.occurrence.getTime() / 2_000);
      cronSeconds.set(s, (cronSeconds.get(s) ?? new Set()).add(r.worker));
    }
    const byAll = [...cronSeconds.values()].filter((w) => w.size === 3).length;
    expect(byAll).toBeGreaterThanOrEqual(Math.floor(cronSeconds.size / 2));
    expect(plain.filter((r) => r.kind === 'cron').length).toBeGreaterThan(2 * metronome.filter((r) => r.kind === 'cron').length);
  }, 60_000);

  it('runs an occurrence again on another replica once, when the replica running it is killed', async () => {
    let victim: { run_id: string; worker: string } | undefined;
    await waitFor(async () => {
      // Started within the last second of its 2.5 s: still running when the kill lands.
      const started = await rows(`worker LIKE 'metronome-%' AND kind = 'export' AND phase = 'start' AND at > clock_timestamp() - interval '1 second'
        AND run_id NOT IN (SELECT run_id FROM report_runs WHERE kind = 'export' AND phase = 'end' AND run_id IS NOT NULL)`);
      victim = started.find((r) => r.attempt === 1) as typeof victim;
      return victim !== undefined;
    }, { what: 'an export running', timeoutMs: 15_000 });
    const process = replicas[Number(victim!.worker.split('-')[1]) - 1];
    process.kill('SIGKILL');
    await process.exited;

    await waitFor(async () => (await rows(`run_id = $1 AND phase = 'end'`, [victim!.run_id])).length > 0, { what: 'the export finished elsewhere', timeoutMs: 30_000 });
    await sleep(1_000);
    const runs = await rows(`run_id = $1`, [victim!.run_id]);
    expect(runs.map((r) => [r.phase, r.attempt, r.worker === victim!.worker])).toEqual([
      ['start', 1, true],
      ['start', 2, false],
      ['end', 2, false],
    ]);
  }, 60_000);
});
