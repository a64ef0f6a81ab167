import { DataSource } from 'typeorm';
import { createRootLogger, durationBucket, HistoryRepository, MetronomeMetrics, type AttemptOutcome, type AttemptRecord } from '../../../libs/common/src/index.js';
import { JobStatsRollRepository } from '../../../apps/scheduler/src/stats/job-stats-roll.repository.js';
import { JobStatsRoller } from '../../../apps/scheduler/src/stats/job-stats-roller.service.js';
import { JobStatsRepository } from '../../../apps/scheduler/src/stats/job-stats.repository.js';
import { attemptRecord } from '../../support/attempt-record.js';
import { TestDatabase } from '../../support/database.js';

/**
 * History batches only mark themselves; the scheduler's roller turns marked
 * batches into job_stats_minute rows. Every finished attempt is counted once:
 * through the job_stats view before it is rolled, through the rollup after,
 * however many rollers run at once, whenever its batch commits, and never an
 * attempt whose writer counted it itself (before the roller existed).
 */
describe('job stats rolled up from the run history', () => {
  const database = new TestDatabase();
  let dataSource: DataSource;
  let history: HistoryRepository;
  let repository: JobStatsRollRepository;
  let roller: JobStatsRoller;
  let metrics: MetronomeMetrics;
  let charts: JobStatsRepository;

  beforeAll(async () => {
    await database.create();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    history = new HistoryRepository(dataSource);
    await history.ensurePartitions();
    repository = new JobStatsRollRepository(dataSource);
    metrics = new MetronomeMetrics('scheduler');
    roller = new JobStatsRoller(repository, metrics, createRootLogger('silent', 'test'));
    charts = new JobStatsRepository(dataSource);
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await database.drop();
  });

  const record = (finishedAt: Date, overrides: Partial<AttemptRecord> = {}) => attemptRecord(finishedAt, { job: 'svc.roll', ...overrides });
  const totals = async (from: 'job_stats' | 'job_stats_minute', job: string) =>
    (await database.query<Record<string, number>>(
      `SELECT coalesce(sum(succeeded), 0)::int AS succeeded, coalesce(sum(failed), 0)::int AS failed, coalesce(sum(retried), 0)::int AS retried,
              coalesce(sum(dead), 0)::int AS dead, coalesce(sum(cancelled), 0)::int AS cancelled, coalesce(sum(duration_ms_sum), 0)::int AS ms
         FROM ${from} WHERE job = $1`,
      [job],
    ))[0];
  const markers = async () => (await database.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_history_batches`))[0].n;

  it('counts every outcome once, before and after several rollers race over the same batches', async () => {
    const at = new Date(Date.now() - 30_000);
    const outcomes: AttemptOutcome[] = ['succeeded', 'failed', 'retrying', 'dead', 'cancelled', 'lost'];
    // 40 batches, small (one statement) and large (COPY), tenants interleaved.
    for (let b = 0; b < 40; b++) {
      const n = b % 8 === 0 ? 150 : 12;
      await history.write(Array.from({ length: n }, (_, i) => record(at, { job: 'svc.race', companyId: `t${i % 7}`, outcome: outcomes[i % 6], durationMs: i })), await history.batchId());
    }
    const expected = await totals('job_stats', 'svc.race');
    expect(expected.succeeded + expected.failed + expected.retried + expected.dead + expected.cancelled).toBe(5 * 150 + 35 * 12);

    const rollers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 50 && (await repository.roll()).batches > 0; i++);
    });
    await Promise.all(rollers);

    expect(await markers()).toBe(0);
    expect(await totals('job_stats_minute', 'svc.race')).toEqual(expected);
    expect(await totals('job_stats', 'svc.race')).toEqual(expected);
  });

  it('rolls the same histogram the view reads, bucketed as durationBucket does', async () => {
    const durations = [0, 0.4, 1, 2, 3, 4, 7, 8, 999, 1_000, 1_024, 65_000, 3_600_000];
    const at = new Date(Date.now() - 20_000);
    await history.write(durations.map((durationMs) => record(at, { job: 'svc.hist', durationMs })), await history.batchId());
    const window = { from: new Date(at.getTime() - 120_000), to: new Date(at.getTime() + 120_000), bucketSeconds: 3_600, companyId: null, job: 'svc.hist' };
    const viewed = await charts.buckets(window);
    while ((await repository.roll()).batches > 0);
    const rolled = await charts.buckets(window);
    expect(rolled).toEqual(viewed);
    const expected = new Array<number>(22).fill(0);
    for (const ms of durations) expected[durationBucket(Math.round(ms))]++;
    const histogram = (bs: typeof rolled) => bs.reduce((sum, b) => sum.map((n, i) => n + (b.histogram[i] ?? 0)), new Array<number>(22).fill(0));
    expect(histogram(rolled)).toEqual(expected);
  });

  it('counts a batch committed hours late in its own minute, and never an attempt its writer counted itself', async () => {
    const hoursAgo = new Date(Date.now() - 5 * 3_600_000);
    await history.write([record(hoursAgo, { job: 'svc.late' }), record(hoursAgo, { job: 'svc.late', outcome: 'dead' })], await history.batchId());
    // An attempt from before the roller: no batch, its rollup row written with it.
    await database.query(
      `INSERT INTO job_attempts (run_id, attempt, job, queue, company_id, outcome, final, failed, started_at, finished_at, duration_ms)
       VALUES ('pre-1', 1, 'svc.late', 'normal', 'acme', 'succeeded', true, false, $1, $1, 5)`,
      [hoursAgo],
    );
    await database.query(
      `INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, duration_ms_sum, duration_hist) VALUES (date_trunc('minute', $1::timestamptz), 'svc.late', 'normal', 'acme', 1, 5, '{}')`,
      [hoursAgo],
    );
    expect(await totals('job_stats', 'svc.late')).toMatchObject({ succeeded: 2, dead: 1 });
    while ((await repository.roll()).batches > 0);
    const [row] = await database.query<{ minute: Date; succeeded: number; dead: number }>(
      `SELECT minute, sum(succeeded)::int AS succeeded, sum(dead)::int AS dead FROM job_stats_minute WHERE job = 'svc.late' GROUP BY minute`,
    );
    expect(row).toEqual({ minute: new Date(Math.floor(hoursAgo.getTime() / 60_000) * 60_000), succeeded: 2, dead: 1 });
    expect(await totals('job_stats', 'svc.late')).toMatchObject({ succeeded: 2, dead: 1 });
  });

  it('drops the marker of a batch whose attempts retention has already removed', async () => {
    await history.write([record(new Date(Date.now() - 10_000), { job: 'svc.gone' })], await history.batchId());
    await database.query(`DELETE FROM job_attempts WHERE job = 'svc.gone'`);
    expect(await totals('job_stats', 'svc.gone')).toMatchObject({ succeeded: 0 });
    while ((await repository.roll()).batches > 0);
    expect(await markers()).toBe(0);
    expect(await totals('job_stats_minute', 'svc.gone')).toMatchObject({ succeeded: 0 });
  });

  it('the scheduler service rolls everything pending in one pass and reports what is left', async () => {
    for (let b = 0; b < 3; b++) await history.write([record(new Date(Date.now() - 90_000), { job: 'svc.service' })], await history.batchId());
    const pendingBefore = await repository.pending();
    expect(pendingBefore.batches).toBe(3);
    expect(pendingBefore.oldestSeconds).toBeGreaterThan(60);
    expect(await roller.rollOnce()).toMatchObject({ batches: 3, attempts: 3 });
    expect(await markers()).toBe(0);
    const exposed = await metrics.registry.metrics();
    expect(exposed).toMatch(/^metronome_job_stats_rollup_pending_batches{service="scheduler"} 0$/m);
    expect(exposed).toMatch(/^metronome_job_stats_rollup_lag_seconds{service="scheduler"} 0$/m);
    expect(await totals('job_stats_minute', 'svc.service')).toMatchObject({ succeeded: 3 });
  });
});
