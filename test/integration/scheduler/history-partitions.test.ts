import { DataSource } from 'typeorm';
import { RunHistoryRetentionRepository } from '../../../apps/scheduler/src/retention/run-history-retention.repository.js';
import { AuditLog, AuditRepository, RetentionPurger } from '../../../libs/common/src/index.js';
import { TestDatabase } from '../../support/database.js';

const DAY = 86_400_000;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;

/**
 * Run history retention on the partitioned job_attempts: whole days go by
 * dropping their partition, rows of jobs with a longer policy survive the drop,
 * rows outside any day partition go by deletes, nothing younger is touched.
 */
describe('run history retention drops job_attempts partitions', () => {
  const database = new TestDatabase();
  let dataSource: DataSource;
  let repository: RunHistoryRetentionRepository;
  let purger: RetentionPurger;

  beforeAll(async () => {
    await database.create();
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    repository = new RunHistoryRetentionRepository(dataSource);
    purger = new RetentionPurger(dataSource, new AuditLog(dataSource, new AuditRepository(dataSource)), silent);
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await database.drop();
  });

  const day = (daysAgo: number) => new Date(Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY + 3_600_000);
  const ymd = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '');
  const attempt = (runId: string, job: string, outcome: string, at: Date) =>
    database.query(
      `INSERT INTO job_attempts (run_id, attempt, job, queue, outcome, final, failed, started_at, finished_at, duration_ms)
       VALUES ($1, 1, $2, 'normal', $3, true, $4, $5, $5, 1)`,
      [runId, job, outcome, outcome !== 'succeeded' && outcome !== 'cancelled', at],
    );
  const partitions = async () =>
    (await database.query<{ name: string }>(`SELECT relname AS name FROM pg_class WHERE relname ~ '^job_attempts_(ok|failed)_p' AND relkind = 'r'`)).map((r) => r.name);
  const left = async () => (await database.query<{ run_id: string }>('SELECT run_id FROM job_attempts ORDER BY run_id')).map((r) => r.run_id);

  it('drops the days past each branch cut-off, keeps younger days, and keeps the rows of a job whose policy keeps them longer', async () => {
    const old = day(100);
    const older = day(200);
    await database.query(`SELECT job_attempts_ensure_partitions($1::date, 1), job_attempts_ensure_partitions($2::date, 1)`, [old, older]);
    await database.query(`INSERT INTO job_retention (job, runs_ms) VALUES ('reports.build', $1)`, [365 * DAY]);
    await attempt('ok-100', 'svc.work', 'succeeded', old);
    await attempt('failed-100', 'svc.work', 'dead', old);
    await attempt('failed-200', 'svc.work', 'dead', older);
    await attempt('report-100', 'reports.build', 'succeeded', old);
    await attempt('ok-today', 'svc.work', 'succeeded', day(0));
    // A run that succeeded on its second attempt: its first (retrying) attempt sits on the failed branch.
    await database.query(
      `INSERT INTO job_attempts (run_id, attempt, job, queue, outcome, final, failed, started_at, finished_at, duration_ms)
       VALUES ('retried-100', 1, 'svc.work', 'normal', 'retrying', false, true, $1, $1, 1), ('retried-100', 2, 'svc.work', 'normal', 'succeeded', true, false, $1, $1, 1)`,
      [old],
    );
    // A day with no partition of its own (the history writer caught up late): the default partition holds it.
    await attempt('ok-default-120', 'svc.work', 'succeeded', day(120));

    const purge = await repository.purgeRunHistory({ runsBefore: new Date(Date.now() - 90 * DAY), failedRunsBefore: new Date(Date.now() - 180 * DAY), outboxBefore: new Date(Date.now() - 2 * DAY) });

    expect(await left()).toEqual(['failed-100', 'ok-today', 'report-100']);
    // ok 100 and 200 days back, failed 200 days back; failed 100 days back is within 180 days.
    // ...and the retried run goes whole: no `retrying` attempt is left to read as a run still retrying.
    expect(purge).toMatchObject({ runs: 3, failedRuns: 1, partitionsDropped: 3 });
    const names = await partitions();
    expect(names).not.toContain(`job_attempts_ok_p${ymd(old)}`);
    expect(names).not.toContain(`job_attempts_failed_p${ymd(older)}`);
    expect(names).toContain(`job_attempts_failed_p${ymd(old)}`);
    expect(names).toContain(`job_attempts_ok_p${ymd(day(0))}`);
    // The kept report row now lives in the default partition, and the per-job purger removes it at its own cut-off.
    const [where] = await database.query<{ part: string }>(`SELECT tableoid::regclass::text AS part FROM job_attempts WHERE run_id = 'report-100'`);
    expect(where.part).toBe('job_attempts_ok_default');
    const perJob = await purger.purge(new Date(Date.now() + 300 * DAY));
    expect(perJob.find((p) => p.job === 'reports.build')).toMatchObject({ runs: 1 });
    expect(await left()).toEqual(['failed-100', 'ok-today']);
  });

  it('is idempotent: a second purge finds nothing more to drop', async () => {
    const again = await repository.purgeRunHistory({ runsBefore: new Date(Date.now() - 90 * DAY), failedRunsBefore: new Date(Date.now() - 180 * DAY), outboxBefore: new Date(Date.now() - 2 * DAY) });
    expect(again).toMatchObject({ runs: 0, failedRuns: 0, partitionsDropped: 0 });
  });
});
