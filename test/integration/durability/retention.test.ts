import { Injectable } from '@nestjs/common';
import { JobEnqueuer, JobEnqueuerModule, JobHandler, PermanentError, RetentionPurger, type JobContext } from '../../../libs/common/src/index.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';
import { newKey, waitFor } from './durability-support.js';

const KEPT_JOB = 'rt.kept';
const DAY = 86_400_000;

@Injectable()
class RetentionHandlers {
  @JobHandler(KEPT_JOB, { sensitive: ['payload.iban'], maxAttempts: 1, retention: { runsMs: 7 * DAY, stepsMs: 1 * DAY, deadLettersMs: 30 * DAY } })
  async run(ctx: JobContext<{ iban: string; fail?: boolean }>) {
    await ctx.step.run('charge', () => ({ iban: ctx.payload.iban }));
    if (ctx.payload.fail) throw new PermanentError('bank refused');
  }
}

describe('per-job retention', () => {
  const h = new RuntimeHarness();
  let enqueuer: JobEnqueuer;
  let purger: RetentionPurger;

  beforeAll(async () => {
    await h.start();
    const app = await h.app({
      names: [KEPT_JOB],
      providers: [RetentionHandlers],
      imports: [JobEnqueuerModule],
      env: { ENCRYPTION_KEYS: `k1:${newKey()}`, ENCRYPTION_ACTIVE_KEY: 'k1' },
    });
    enqueuer = app.get(JobEnqueuer);
    purger = app.get(RetentionPurger);
  });
  afterAll(() => h.stop());

  it('purges step results, runs and dead letters past their retention, encrypted payloads included, and audits the purge', async () => {
    const ok = await enqueuer.enqueue(KEPT_JOB, { iban: 'DE89370400440532013000' }, { companyId: 'acme' });
    const bad = await enqueuer.enqueue(KEPT_JOB, { iban: 'FR1420041010050500013M02606', fail: true }, { companyId: 'acme' });
    // A keyed enqueue is planned: it also has a job_runs row and an outbox row.
    const planned = await enqueuer.enqueue(KEPT_JOB, { iban: 'NL91ABNA0417164300' }, { companyId: 'acme', idempotencyKey: 'retention-planned' });
    await waitFor(async () => (await h.run(ok.runId))?.state === 'succeeded' && (await h.run(bad.runId))?.state === 'dead' && (await h.run(planned.runId))?.state === 'succeeded');
    await waitFor(async () => (await h.database.query(`SELECT id FROM dead_letters`)).length === 1);
    expect(await h.database.query(`SELECT * FROM job_retention`)).toEqual([
      expect.objectContaining({ job: KEPT_JOB, runs_ms: String(7 * DAY), steps_ms: String(DAY), dead_letters_ms: String(30 * DAY) }),
    ]);
    const count = async () => (await h.database.query<{ runs: string; planned: string; steps: string; dlq: string; outbox: string }>(
      `SELECT (SELECT count(DISTINCT run_id) FROM job_attempts) AS runs, (SELECT count(*) FROM job_runs) AS planned,
              (SELECT count(*) FROM job_steps) AS steps, (SELECT count(*) FROM dead_letters) AS dlq, (SELECT count(*) FROM outbox) AS outbox`,
    ))[0];

    // Nothing is old enough yet.
    expect((await purger.purge()).every((c) => c.runs + c.steps + c.deadLetters === 0)).toBe(true);
    expect(await count()).toEqual({ runs: '3', planned: '1', steps: '3', dlq: '1', outbox: '1' });

    // Two days on: step results (encrypted) are past their one day; runs and the dead letter are kept.
    const [twoDays] = await purger.purge(new Date(Date.now() + 2 * DAY));
    expect(twoDays).toMatchObject({ job: KEPT_JOB, runs: 0, steps: 3, deadLetters: 0, encrypted: 3 });
    expect(await count()).toEqual({ runs: '3', planned: '1', steps: '0', dlq: '1', outbox: '1' });

    // Eight days: runs go, their history, planned row and outbox row with them (encrypted: the planned payload
    // and the dead attempt's); 31 days: the dead letter too.
    const [eightDays] = await purger.purge(new Date(Date.now() + 8 * DAY));
    expect(eightDays).toMatchObject({ runs: 3, deadLetters: 0, encrypted: 2 });
    expect(await count()).toEqual({ runs: '0', planned: '0', steps: '0', dlq: '1', outbox: '0' });
    const [month] = await purger.purge(new Date(Date.now() + 31 * DAY));
    expect(month).toMatchObject({ runs: 0, deadLetters: 1, encrypted: 1 });
    expect(await count()).toEqual({ runs: '0', planned: '0', steps: '0', dlq: '0', outbox: '0' });

    const audit = await h.database.query<{ actor: string; action: string; target_id: string; after: Record<string, number> }>(
      `SELECT actor, action, target_id, after FROM audit_log ORDER BY id`,
    );
    expect(audit.map((a) => [a.actor, a.action, a.target_id, a.after])).toEqual([
      ['system', 'retention.purge', KEPT_JOB, { runs: 0, steps: 3, deadLetters: 0, encrypted: 3 }],
      ['system', 'retention.purge', KEPT_JOB, { runs: 3, steps: 0, deadLetters: 0, encrypted: 2 }],
      ['system', 'retention.purge', KEPT_JOB, { runs: 0, steps: 0, deadLetters: 1, encrypted: 1 }],
    ]);
  });
});
