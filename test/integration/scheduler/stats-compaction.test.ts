import { DataSource } from 'typeorm';
import { createRootLogger, HistoryRepository, ManualClock, type AttemptRecord } from '../../../libs/common/src/index.js';
import { COMPACTION_LOCK, JobStatsCompactionRepository } from '../../../apps/scheduler/src/stats/job-stats-compaction.repository.js';
import { JobStatsCompactor } from '../../../apps/scheduler/src/stats/job-stats-compactor.service.js';
import { JobStatsRepository } from '../../../apps/scheduler/src/stats/job-stats.repository.js';
import { JobStatsRollRepository } from '../../../apps/scheduler/src/stats/job-stats-roll.repository.js';
import { attemptRecord } from '../../support/attempt-record.js';
import { TestDatabase } from '../../support/database.js';

/**
 * The scheduler's roller appends a rollup row per pass, minute, job, queue and
 * tenant (here a pass after each history batch); its compactor folds each key's rows into one for the
 * minutes that closed. Whatever it merges, the charts read the same totals
 * and histograms before and after, and a row appended while it runs is kept.
 */
describe('job stats rollup compaction', () => {
  const database = new TestDatabase();
  let dataSource: DataSource;
  let history: HistoryRepository;
  let roller: JobStatsRollRepository;
  let compactor: JobStatsCompactor;
  let charts: JobStatsRepository;
  const clock = new ManualClock(new Date('2026-12-04T10:20:10Z'));

  beforeAll(async () => {
    await database.create();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    history = new HistoryRepository(dataSource);
    roller = new JobStatsRollRepository(dataSource);
    await history.ensurePartitions();
    compactor = new JobStatsCompactor(new JobStatsCompactionRepository(dataSource), clock, createRootLogger('silent', 'test'));
    charts = new JobStatsRepository(dataSource);
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await database.drop();
  });

  const record = attemptRecord;
  /** A history batch, rolled up at once: one rollup row per key, as a roll-up pass per batch makes. */
  const writeAndRoll = async (records: AttemptRecord[]) => {
    await history.write(records, await history.batchId());
    while ((await roller.roll()).batches > 0);
  };
  const rowsPerKey = () =>
    database.query<{ minute: Date; job: string; company_id: string; n: number }>(
      `SELECT minute, job, company_id, count(*)::int AS n FROM job_stats_minute GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
  const window = { from: new Date('2026-12-04T09:00:00Z'), to: new Date('2026-12-04T11:00:00Z'), bucketSeconds: 60, companyId: null };

  it('folds every closed minute\'s rows into one per key, and the charts read the same totals and histograms', async () => {
    // Six batches over two closed minutes and the current one, two tenants, every outcome, small (one statement) and large (COPY).
    for (let b = 0; b < 3; b++) {
      await writeAndRoll([
        record('2026-12-04T10:18:05Z', { durationMs: 3 + b }),
        record('2026-12-04T10:18:06Z', { companyId: 'globex', outcome: 'failed', durationMs: 700 }),
        record('2026-12-04T10:19:01Z', { outcome: 'retrying', durationMs: 40 }),
        record('2026-12-04T10:19:02Z', { outcome: 'dead', durationMs: 9_000 }),
        record('2026-12-04T10:20:03Z', { outcome: 'cancelled', durationMs: 1 }),
      ]);
      await writeAndRoll(Array.from({ length: 120 }, (_, i) => record('2026-12-04T10:19:30Z', { companyId: i % 2 ? 'acme' : 'globex', durationMs: i })));
    }
    const before = await charts.buckets(window);
    const beforeKeys = await rowsPerKey();
    expect(beforeKeys.filter((k) => k.n > 1).length).toBeGreaterThan(0);

    const done = await compactor.compactOnce();

    const after = await rowsPerKey();
    // Closed minutes: one row per key. The current minute (10:20) is left as the batches wrote it.
    for (const k of after) expect(k.n).toBe(k.minute.toISOString() === '2026-12-04T10:20:00.000Z' ? 3 : 1);
    expect(after.map((k) => `${k.minute.toISOString()} ${k.company_id}`)).toEqual(beforeKeys.map((k) => `${k.minute.toISOString()} ${k.company_id}`));
    expect(done.removed).toBe(beforeKeys.filter((k) => k.minute.toISOString() !== '2026-12-04T10:20:00.000Z').reduce((s, k) => s + k.n, 0));
    expect(done.merged).toBe(after.length - 1);
    expect(await charts.buckets(window)).toEqual(before);
    const tenant = { ...window, companyId: 'globex' };
    const total = (bs: Awaited<ReturnType<JobStatsRepository['buckets']>>) => bs.reduce((s, b) => s + b.succeeded + b.failed, 0);
    expect(total(await charts.buckets(tenant))).toBe(3 + 3 * 60);

    // A second pass finds nothing to fold.
    expect(await compactor.compactOnce()).toEqual({ removed: 0, merged: 0 });
  });

  it('keeps a row appended to a minute while another session compacts it', async () => {
    clock.set(new Date('2026-12-04T10:31:10Z'));
    for (let b = 0; b < 4; b++) await writeAndRoll([record('2026-12-04T10:30:05Z', { companyId: 'initech' })]);
    // Another session has appended to the minute and not yet committed when the compaction runs.
    const late = await database.db.connect();
    try {
      await late.query('BEGIN');
      await late.query(
        `INSERT INTO job_stats_minute (minute, job, queue, company_id, succeeded, duration_hist) VALUES ('2026-12-04T10:30:00Z', 'svc.work', 'normal', 'initech', 7, '{}')`,
      );
      // initech's four rows, and the three of the 10:20 minute, which has closed since the first test.
      expect(await compactor.compactOnce()).toEqual({ removed: 7, merged: 2 });
      await late.query('COMMIT');
    } finally {
      late.release();
    }
    const [{ n, succeeded }] = await database.query<{ n: number; succeeded: number }>(
      `SELECT count(*)::int AS n, sum(succeeded)::int AS succeeded FROM job_stats_minute WHERE company_id = 'initech'`,
    );
    expect({ n, succeeded }).toEqual({ n: 2, succeeded: 11 });
  });

  it('skips a pass while another scheduler replica compacts', async () => {
    clock.set(new Date('2026-12-04T10:41:10Z'));
    for (let b = 0; b < 2; b++) await writeAndRoll([record('2026-12-04T10:40:05Z', { companyId: 'umbrella' })]);
    const other = await database.db.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [COMPACTION_LOCK]);
      expect(await compactor.compactOnce()).toEqual({ removed: 0, merged: 0 });
      await other.query('COMMIT');
    } finally {
      other.release();
    }
    // umbrella's two rows, and initech's merged row with the late one committed after the last pass.
    expect(await compactor.compactOnce()).toEqual({ removed: 4, merged: 2 });
  });

  it('folds rows a writer added late to an older minute on its hourly deep pass', async () => {
    // A minute 45 minutes back, written after an outage: the 15-minute passes do not reach it.
    clock.set(new Date('2026-12-04T10:55:10Z'));
    for (let b = 0; b < 3; b++) await writeAndRoll([record('2026-12-04T10:10:05Z', { companyId: 'hooli' })]);
    expect(await compactor.compactOnce()).toEqual({ removed: 0, merged: 0 });
    // An hour after the last deep pass (the first, at 10:20) the next one looks two days back.
    clock.set(new Date('2026-12-04T11:21:10Z'));
    expect(await compactor.compactOnce()).toEqual({ removed: 3, merged: 1 });
    expect((await rowsPerKey()).every((k) => k.n === 1)).toBe(true);
    const [{ succeeded }] = await database.query<{ succeeded: number }>(`SELECT sum(succeeded)::int AS succeeded FROM job_stats_minute WHERE company_id = 'hooli'`);
    expect(succeeded).toBe(3);
  });
});
