import type { INestApplication } from '@nestjs/common';
import { DeadLetterTools, STREAMS, subjects } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { healed, JOB, RuntimeHarness } from './runtime-support.js';

describe('job runtime: DLQ tools', () => {
  const h = new RuntimeHarness();
  let app: INestApplication;
  let tools: DeadLetterTools;

  beforeAll(async () => {
    await h.start();
    app = await h.app();
    tools = app.get(DeadLetterTools);
  });
  afterAll(() => h.stop());

  const dead = (id: string) => waitFor(() => h.database.query(`SELECT * FROM dead_letters WHERE id = $1`, [id]).then((r) => r[0]), { what: `dead letter ${id}` });

  it('dead-letters a job message that is not JSON without the credentials the parse error quotes from it', async () => {
    const ack = await h.js.publish(subjects.job('normal', JOB.work), '{"password":hunter2, "a":1}', { msgID: 'garbage-with-secrets' });
    const letter = await dead(`${STREAMS.JOBS}-${ack.seq}`);
    expect(letter.reason).toBe('malformed');
    expect(letter.error).toContain('body is not JSON');
    expect(letter.error).toContain('"password":[redacted]');
    expect(letter.error).not.toContain('hunter2');
  });

  it('dead-letters a binary job message holding NUL bytes, the text Postgres cannot store shown as U+FFFD', async () => {
    const body = Buffer.from([0x7b, 0x00, 0x01, 0xff, 0x00, 0x7d]);
    const ack = await h.js.publish(subjects.job('normal', JOB.work), body, { msgID: 'binary-with-nul' });
    const letter = await dead(`${STREAMS.JOBS}-${ack.seq}`);
    expect(letter.reason).toBe('malformed');
    expect(letter.payload).toBe('{\uFFFD\u0001\uFFFD\uFFFD}');
    expect(letter.error).not.toContain('\u0000');
  });

  it('lists, inspects and retries a dead run as a new run with fresh attempts linked to it', async () => {
    await h.publish(JOB.fragile, { label: 'x1' }, { runId: 'd-1', companyId: 'acme', priority: 'high' });
    await h.publish(JOB.work, { sleepMs: 1 }, { runId: 'ok-1', companyId: 'acme' });
    await dead('d-1');
    // Its history: one attempt, dead (written in the same settlement as the dead letter, before the term).
    await waitFor(async () => (await h.run('d-1'))?.state === 'dead', { what: 'd-1 dead in the history' });
    expect((await h.attempts('d-1')).map((a) => [a.attempt, a.outcome])).toEqual([[1, 'dead']]);

    expect((await tools.list({ job: JOB.fragile, companyId: 'acme' })).map((d) => d.id)).toEqual(['d-1']);
    expect((await tools.list({ error: 'UPSTREAM REJECTED' })).map((d) => d.id)).toEqual(['d-1']);
    expect(await tools.list({ companyId: 'other' })).toEqual([]);
    const inspected = await tools.inspect('d-1');
    expect(inspected.deadLetter.reason).toBe('permanent_error');
    expect(inspected.event?.type).toBe(JOB.fragile);
    expect(inspected.run).toMatchObject({ id: 'd-1', state: 'dead', attempts: 1, company_id: 'acme', job: JOB.fragile });

    healed.add('x1');
    const retried = await tools.retry('d-1');
    expect(retried).toMatchObject({ deadLetterId: 'd-1', published: true });
    const run = await waitFor(async () => {
      const r = await h.run(retried!.runId);
      return r?.state === 'succeeded' ? r : undefined;
    }, { what: 'the retry to succeed' }) as Record<string, any>;
    expect(run).toMatchObject({ attempts: 1, company_id: 'acme', queue: 'high', job: JOB.fragile });
    // The retry is a planned run (its outbox row made it safe against a crash before the publish), linked to the dead one.
    const [planned] = await h.database.query(`SELECT * FROM job_runs WHERE id = $1`, [retried!.runId]);
    expect(planned).toMatchObject({ retry_of: 'd-1', company_id: 'acme', priority: 'high', job: JOB.fragile });
    await waitFor(async () => (await h.database.query(`SELECT state FROM job_runs WHERE id = $1`, [retried!.runId]))[0]?.state === 'succeeded', { what: 'the planned row to record the outcome' });
    // The dead run stays dead in the history.
    expect((await h.run('d-1')).state).toBe('dead');
    expect((await h.log(`run_id = $1 AND kind = 'end'`, [retried!.runId]))).toHaveLength(1);
    expect((await tools.inspect('d-1')).deadLetter.retriedAt).not.toBeNull();
    expect(await tools.retry('d-1')).toBeNull(); // once
    expect(await tools.list({ job: JOB.fragile })).toEqual([]); // retried ones are hidden by default
  });

  it('retries all matching and purges', async () => {
    for (const i of [1, 2, 3]) await h.publish(JOB.fragile, { label: `b${i}` }, { runId: `db-${i}`, companyId: 'beta' });
    await h.publish(JOB.fragile, { label: 'g1' }, { runId: 'dg-1', companyId: 'gamma' });
    for (const id of ['db-1', 'db-2', 'db-3', 'dg-1']) await dead(id);
    for (const i of [1, 2, 3]) healed.add(`b${i}`);
    const retried = await tools.retryAll({ companyId: 'beta', job: JOB.fragile });
    expect(retried).toHaveLength(3);
    await waitFor(async () => {
      const rows = await h.database.query(`SELECT state FROM job_runs WHERE retry_of LIKE 'db-%'`);
      return rows.length === 3 && rows.every((r) => r.state === 'succeeded');
    }, { what: 'three retries to succeed' });
    expect(() => tools.purge({})).toThrow(/needs a filter/);
    expect(await tools.purge({ companyId: 'gamma' })).toBe(1);
    expect(await tools.list({ companyId: 'gamma', includeRetried: true })).toEqual([]);
    expect(await tools.list({ companyId: 'beta', includeRetried: true })).toHaveLength(3);
  });
});
