import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  connectJetStream,
  JobEnqueuer,
  JobHandler,
  jobConsumerDeclarations,
  JOB_NAMES,
  ManualClock,
  MetronomeServiceModule,
  provision,
  type RunResult,
} from '../../../libs/common/src/index.js';
import { runState } from '../../support/runs.js';
import { waitFor } from '../../support/wait.js';
import { InProcessScheduler, SchedulerTestEnv } from './scheduler-support.js';

const DAY = 86_400_000;
const KEPT_LONGER = 'reports.build';

/** A service whose job keeps its runs a year, its step results 30 days and its dead letters one day, declared the way every worker declares it. */
@Injectable()
class ReportJobs {
  @JobHandler(KEPT_LONGER, { retention: { runsMs: 365 * DAY, stepsMs: 30 * DAY, deadLettersMs: 1 * DAY } })
  build(): RunResult {
    return { status: 'success' };
  }
}

@Module({
  imports: [
    MetronomeServiceModule.forService({ service: 'reports', consumers: [], entities: [], jobs: { names: [KEPT_LONGER], consumers: jobConsumerDeclarations('reports') } }),
  ],
  providers: [ReportJobs],
})
class ReportsModule {}

describe('scheduler.retention runs on the job runtime and purges the platform record', () => {
  const env = new SchedulerTestEnv();
  const clock = new ManualClock(Date.now());
  let scheduler: InProcessScheduler;
  let reports: INestApplication;

  beforeAll(async () => {
    await env.start({ SCHEDULER_POLL_MS: '100' });
    await provision(env.jsm, [], jobConsumerDeclarations('reports'), { replicas: 1, ackWaitMs: 30_000 });
    scheduler = await new InProcessScheduler(clock).start();
    reports = (await Test.createTestingModule({ imports: [ReportsModule] }).compile()).createNestApplication({ logger: false });
    await connectJetStream(reports);
    await reports.init();
    await waitFor(async () => (await env.database.query(`SELECT 1 FROM job_retention WHERE job = $1`, [KEPT_LONGER])).length === 1, { what: 'per-job retention declared' });
  }, 60_000);

  afterAll(async () => {
    await reports?.close();
    await scheduler?.stop();
    await env.stop();
  });

  const ago = (days: number) => new Date(Date.now() - days * DAY);
  /** A run's outcome as its history tells it (the latest attempt, else its planned row). */
  const run = (runId: string) => runState(env.database, runId) as Promise<{ state: string; result: { recordsProcessed: number; data: Record<string, unknown> } | null; error: string | null } | undefined>;

  async function seed(): Promise<void> {
    const q = (sql: string, params: unknown[]) => env.database.query(sql, params);
    // The run history: one row per finished attempt (job_attempts), failures in a branch kept longer.
    const attempt = (id: string, job: string, outcome: string, at: Date) =>
      q(
        `INSERT INTO job_attempts (run_id, attempt, job, queue, outcome, final, failed, started_at, finished_at, duration_ms)
         VALUES ($1, 1, $2, 'normal', $3, $3 <> 'retrying', $3 IN ('failed', 'retrying', 'dead', 'lost'), $4, $4, 0)`,
        [id, job, outcome, at],
      );
    // Planned runs (schedule firings, delayed enqueues) keep a job_runs row, finished or not.
    const planned = (id: string, job: string, state: string, at: Date) =>
      q(`INSERT INTO job_runs (id, job, queue, state, scheduled_for, created_at, finished_at) VALUES ($1, $2, 'normal', $3, $4, $4, $4)`, [id, job, state, at]);
    // The day of the oldest attempts has a partition of its own, as every recent day has: retention drops it whole.
    await q(`SELECT job_attempts_ensure_partitions(($1::timestamptz AT TIME ZONE 'UTC')::date, 1)`, [ago(200)]);
    await attempt('ok-100', 'svc.old', 'succeeded', ago(100));
    await attempt('ok-10', 'svc.old', 'succeeded', ago(10));
    await attempt('failed-100', 'svc.old', 'failed', ago(100));
    await attempt('dead-200', 'svc.old', 'dead', ago(200));
    await planned('planned-ok-100', 'svc.old', 'succeeded', ago(100));
    await planned('planned-dead-100', 'svc.old', 'dead', ago(100));
    await planned('queued-300', 'svc.old', 'queued', ago(300));
    // The per-minute rollup of the history, for the charts.
    for (const at of [ago(200), ago(10)]) {
      await q(`INSERT INTO job_stats_minute (minute, job, queue, succeeded, duration_hist) VALUES (date_trunc('minute', $1::timestamptz), 'svc.old', 'normal', 1, '{}')`, [at]);
    }
    await attempt('report-100', KEPT_LONGER, 'succeeded', ago(100));
    await attempt('report-400', KEPT_LONGER, 'succeeded', ago(400));
    await planned('report-400', KEPT_LONGER, 'succeeded', ago(400));
    // Durable step results of two runs published straight to JetStream (no job_runs row): one past its 30 days.
    for (const [id, days] of [['report-40', 40], ['report-10', 10]] as const) {
      await attempt(id, KEPT_LONGER, 'succeeded', ago(days));
      await q(`INSERT INTO job_steps (run_id, name, seq, job, result, attempt, completed_at) VALUES ($1, 'fetch', 1, $2, '{"rows": 3}', 1, $3)`, [id, KEPT_LONGER, ago(days)]);
    }
    for (const [id, at] of [['old', ago(100)], ['young', ago(10)]] as const) {
      await q(`INSERT INTO audit_log (at, actor, actor_role, actor_kind, action, target_type, target_id) VALUES ($1, 'ops', 'system-admin', 'jwt', 'schedule.pause', 'schedule', $2)`, [at, `audit-${id}`]);
      const n = await q(
        `INSERT INTO notifications (id, company_id, user_id, source_event_id, type, title, created_at) VALUES (gen_random_uuid(), 'acme', 'ana', $1, 'task.assigned', 't', $2) RETURNING id`,
        [`evt-${id}`, at],
      );
      await q(`INSERT INTO notification_deliveries (company_id, notification_id, channel, attempt, outcome, attempted_at) VALUES ('acme', $1, 'email', 1, 'sent', $2)`, [(n[0] as { id: string }).id, at]);
    }
    const dead = (id: string, type: string, at: Date) =>
      q(
        `INSERT INTO dead_letters (id, stream, consumer, subject, message_type, company_id, headers, payload, reason, error, attempts, first_failed_at, last_failed_at, created_at)
         VALUES ($1, 'JOBS', 'x-jobs-normal', $2, $3, 'acme', '{}', '{}', 'max_attempts', 'boom', 5, $4, $4, $4)`,
        [id, `jobs.normal.${type}`, type, at],
      );
    await dead('dl-40', 'svc.old', ago(40));
    await dead('dl-10', 'svc.old', ago(10));
    await dead('dl-report-2', KEPT_LONGER, ago(2));
  }

  it('the daily schedule\'s run succeeds, deletes what is past retention (per-job policies first) and audits the counts', async () => {
    await seed();
    expect((await scheduler.schedules.get('metronome.retention')).cron).toBe('17 3 * * *');
    clock.set(Date.now());
    const [{ runId }] = await scheduler.schedules.trigger('metronome.retention');
    await waitFor(async () => ['succeeded', 'dead', 'failed'].includes((await run(runId))?.state ?? ''), { what: 'retention run finished' });
    const done = (await run(runId))!;
    expect(done.state).toBe('succeeded');

    const ids = async (sql: string) => (await env.database.query<{ id: string }>(sql)).map((r) => r.id).sort();
    // History past 90 days goes (failures past 180), the job with its own year keeps its 100-day-old run; unfinished planned runs stay.
    expect(await ids(`SELECT run_id AS id FROM job_attempts WHERE job IN ('svc.old', '${KEPT_LONGER}')`)).toEqual(['failed-100', 'ok-10', 'report-10', 'report-100', 'report-40']);
    expect(await ids(`SELECT run_id AS id FROM job_steps`)).toEqual(['report-10']);
    expect(await ids(`SELECT id FROM job_runs WHERE job IN ('svc.old', '${KEPT_LONGER}')`)).toEqual(['planned-dead-100', 'queued-300']);
    expect(await env.database.query(`SELECT count(*)::int AS n, min(minute) > now() - interval '11 days' AS young FROM job_stats_minute WHERE job = 'svc.old'`)).toEqual([{ n: 1, young: true }]);
    // A purged run has no history left to show.
    expect(await run('ok-100')).toBeUndefined();
    // A day wholly past retention leaves no partition behind.
    const day = ago(200).toISOString().slice(0, 10).replace(/-/g, '');
    expect(await env.database.query(`SELECT to_regclass($1) AS ok, to_regclass($2) AS failed`, [`job_attempts_ok_p${day}`, `job_attempts_failed_p${day}`])).toEqual([{ ok: null, failed: null }]);
    expect(await ids(`SELECT target_id AS id FROM audit_log WHERE action = 'schedule.pause'`)).toEqual(['audit-young']);
    expect(await ids(`SELECT source_event_id AS id FROM notifications`)).toEqual(['evt-young']);
    expect(await env.database.query(`SELECT count(*)::int AS n FROM notification_deliveries`)).toEqual([{ n: 1 }]);
    expect(await ids(`SELECT id FROM dead_letters`)).toEqual(['dl-10']);

    const audit = await env.database.query<{ actor: string; target_type: string; target_id: string; after: Record<string, number> }>(
      `SELECT actor, target_type, target_id, after FROM audit_log WHERE action = 'retention.purge' ORDER BY id`,
    );
    expect(audit).toEqual([
      // Per job: its planned row and its attempt 400 days back (runs), a direct run's step results past 30 days.
      // report-400's attempt and its planned row are one run.
      { actor: 'system', target_type: 'job', target_id: KEPT_LONGER, after: { runs: 1, steps: 1, deadLetters: 1, encrypted: 0 } },
      {
        actor: 'system',
        target_type: 'platform',
        target_id: runId,
        // ok-100 and planned-ok-100; dead-200 with its day, whose two partitions (ok and failed) are dropped.
        after: { runs: 2, failedRuns: 1, outbox: 0, partitionsDropped: 2, auditLog: 1, notifications: 1, deliveries: 1, deadLetters: 1 },
      },
    ]);
    expect(done.result?.recordsProcessed).toBe(10);
  });

  it('refuses a run started for one tenant instead of purging every tenant\'s rows', async () => {
    await env.database.query(`INSERT INTO audit_log (at, actor, actor_role, actor_kind, action, target_type) VALUES ($1, 'ops', 'system-admin', 'jwt', 'x.old', 'x')`, [ago(200)]);
    const { runId } = await scheduler.app!.get(JobEnqueuer).enqueue(JOB_NAMES.schedulerRetention, {}, { companyId: 'acme', priority: 'low' });
    await waitFor(async () => (await run(runId))?.state === 'dead', { what: 'tenant run dead-lettered' });
    expect((await run(runId))!.error).toMatch(/platform job/);
    expect(await env.database.query(`SELECT action FROM audit_log WHERE action = 'x.old'`)).toEqual([{ action: 'x.old' }]);
  });
});
