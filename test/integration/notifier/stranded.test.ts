import { EVENT_TYPES, JOB_NAMES } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { NotifierHarness } from './harness.js';

const EMAILS = 10;

/**
 * Nothing stranded (issue 24): with the SMTP server down, the notifier's real
 * delivery consumer snoozes each email again and again (the smtp circuit is
 * open) — here more than 20 deliveries per message, past the 9 deliveries the
 * old notifier-jobs consumer allowed and past the job's 8 attempts — without
 * spending attempts (the attempt ledger leaves deferrals out of the JetStream
 * delivery count) or ending in the DLQ; when the server is back every email
 * arrives, once.
 */
describe('notifier: nothing stranded while SMTP is down', () => {
  const h = new NotifierHarness();
  // Short circuit timings so that 20 snoozes take seconds, not 20 × 30 s; everything else is production.
  h.options.smtpCircuit = { failureThreshold: 3, openMs: 150, probeWaitMs: 50 };
  let port = 0;

  beforeAll(async () => {
    // The circuit logs every reopening at warn: dozens per second here.
    await h.start({ LOG_LEVEL: 'error' });
    port = h.smtp.port;
    await h.smtp.stop();
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  it('snoozes every email more than 20 times, then delivers each exactly once when the server is back', async () => {
    const users = Array.from({ length: EMAILS }, (_, i) => `u${i}`);
    for (const u of users) await h.member('stranded', { userId: u, roles: ['crew'], email: `${u}@stranded.test` });
    await Promise.all(users.map((u) => h.event(EVENT_TYPES.notificationRequested, 'stranded', { title: `Hello ${u}`, userIds: [u] }, `evt-${u}`)));

    const snoozes = () =>
      h.database.query<{ run_id: string; deferred: number }>(
        `SELECT run_id, count(*) FILTER (WHERE outcome = 'deferred')::int AS deferred FROM notification_deliveries
         WHERE company_id = 'stranded' AND channel = 'email' GROUP BY run_id`,
      );
    await waitFor(async () => {
      const rows = await snoozes();
      return rows.length === EMAILS && rows.every((r) => r.deferred > 20);
    }, { what: 'every email snoozed more than 20 times', timeoutMs: 150_000, intervalMs: 500 });
    // Still waiting, none given up: no run dead, nothing in the DLQ, no attempts spent on the waiting. The runs are
    // planned (the outbox enqueue with the notification), so each has its job_runs row; attempts that ended are in
    // job_attempts (attempt = JetStream deliveries minus the deferrals the attempt ledger noted).
    const attempts = () =>
      h.database.query<{ run_id: string; outcome: string; attempt: number }>(
        `SELECT run_id, outcome, attempt FROM job_attempts WHERE job = $1 AND company_id = 'stranded' ORDER BY run_id, attempt`, [JOB_NAMES.notifierDeliver],
      );
    const waiting = await h.database.query<{ id: string; state: string }>(`SELECT id, state FROM job_runs WHERE job = $1 AND company_id = 'stranded'`, [JOB_NAMES.notifierDeliver]);
    expect(waiting).toHaveLength(EMAILS);
    expect(waiting.filter((r) => !['queued', 'retrying'].includes(r.state))).toEqual([]);
    const ended = await attempts();
    expect(ended.filter((a) => a.outcome !== 'retrying')).toEqual([]);
    expect(Math.max(0, ...ended.map((a) => a.attempt))).toBeLessThan(8);
    expect(await h.database.query(`SELECT id FROM dead_letters`)).toEqual([]);
    expect(h.smtp.mails).toEqual([]);

    await h.smtp.start(port);
    await waitFor(() => h.smtp.mails.length >= EMAILS, { what: 'every email once the server is back', timeoutMs: 60_000 });
    await waitFor(async () => {
      const runs = await h.database.query<{ state: string }>(`SELECT state FROM job_runs WHERE job = $1 AND company_id = 'stranded'`, [JOB_NAMES.notifierDeliver]);
      return runs.length === EMAILS && runs.every((r) => r.state === 'succeeded');
    }, { what: 'every run succeeded' });
    // Each run succeeded once, on an attempt number the snoozes did not use up (more than 20 of them would be past the 8 allowed).
    const succeeded = (await attempts()).filter((a) => a.outcome === 'succeeded');
    expect(new Set(succeeded.map((a) => a.run_id))).toEqual(new Set(waiting.map((r) => r.id)));
    expect(succeeded).toHaveLength(EMAILS);
    expect(Math.max(...succeeded.map((a) => a.attempt))).toBeLessThan(8);
    expect((await attempts()).filter((a) => !['retrying', 'succeeded'].includes(a.outcome))).toEqual([]);
    expect(await h.database.query(`SELECT id FROM dead_letters`)).toEqual([]);
    await sleep(1_000);
    expect(users.map((u) => h.smtp.to(`${u}@stranded.test`).map((m) => m.subject))).toEqual(users.map((u) => [`Hello ${u}`]));
    expect(h.smtp.mails).toHaveLength(EMAILS);
    const deferred = (await snoozes()).map((r) => r.deferred);
    console.log(`snoozes per email while SMTP was down: min ${Math.min(...deferred)}, max ${Math.max(...deferred)}; attempt numbers that delivered: ${succeeded.map((a) => a.attempt).join(',')}`);
  }, 240_000);
});
