import type { INestApplication } from '@nestjs/common';
import { AckPolicy } from '@nats-io/jetstream';
import { createCloudEvent, encodeCloudEvent, handOffMessageId, JobControl, JobEnqueuer, JobEnqueuerModule, packMessage, STREAMS, subjects } from '../../../libs/common/src/index.js';
import { sleep, waitFor } from '../../support/wait.js';
import { deferralsOf, JOB, RuntimeHarness } from './runtime-support.js';

/**
 * Job packs (JOB_PACK_MAX > 1): a producer's due-now jobs of one subject share
 * a JetStream message; each job still runs, retries, defers, dead-letters and
 * is recorded on its own, and a pack that comes back runs nothing twice.
 */
describe('job runtime: packs', () => {
  // A short ack wait so a pack taken and never settled comes back within the test.
  const h = new RuntimeHarness({ ackWaitMs: 2_000 });
  const env = { JOB_PACK_MAX: '10' };
  let app: INestApplication;
  const lastSeq = async () => (await h.jsm.streams.info(STREAMS.JOBS)).state.last_seq;
  const starts = async (runId: string) => (await h.log(`kind = 'start' AND run_id = $1`, [runId])).map((r) => r.attempt);
  const attemptsOf = async (runId: string) => (await h.attempts(runId)).map((a) => `${a.attempt}:${a.outcome}`);

  beforeAll(async () => {
    await h.start();
    app = await h.app({ concurrency: 2, env, imports: [JobEnqueuerModule] });
  });
  afterAll(() => h.stop());

  it('stores 25 jobs enqueued together as 3 messages, each runs once as attempt 1 (parked while paused, then run from its pack)', async () => {
    const enqueuer = app.get(JobEnqueuer);
    // Paused while they are stored, so the worker's hand-offs (below) do not add to the count of messages.
    const control = app.get(JobControl);
    await control.pause(JOB.work, { by: 'test', reason: 'count the packs' });
    await waitFor(() => control.isPaused(JOB.work), { what: 'paused' });
    const before = await lastSeq();
    const runs = await enqueuer.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ job: JOB.work, payload: { sleepMs: 20, label: `bulk-${i}` }, options: { companyId: i % 2 ? 'acme' : 'beta' } })));
    const packs = await lastSeq();
    expect(packs - before).toBe(3);
    await control.resume(JOB.work);
    const ids = runs.map((r) => r.runId);
    await waitFor(async () => Number((await h.database.query<{ n: string }>(`SELECT count(*) n FROM job_attempts WHERE run_id = ANY($1)`, [ids]))[0].n) === 25, { what: '25 outcomes' });
    for (const id of ids) {
      expect(await starts(id)).toEqual([1]);
      expect(await attemptsOf(id)).toEqual(['1:succeeded']);
    }
    // Nothing left its pack: no message beyond the 3 packs.
    expect(await lastSeq()).toBe(packs);
    await waitFor(async () => (await h.jsm.streams.info(STREAMS.JOBS)).state.messages === 0, { what: 'JOBS empty' });
  });

  it('gathers concurrent single calls into shared messages; every run is reported and runs once', async () => {
    const enqueuer = app.get(JobEnqueuer);
    const before = await lastSeq();
    const runs = await Promise.all(Array.from({ length: 60 }, (_, i) => enqueuer.enqueue(JOB.work, { label: `single-${i}` }, { companyId: `tenant-${i}` })));
    expect(new Set(runs.map((r) => r.runId)).size).toBe(60);
    expect(runs.every((r) => r.created && r.state === 'queued')).toBe(true);
    expect((await lastSeq()) - before).toBeLessThan(60);
    // A bad call fails alone, not the calls it would have shared a message with.
    const mixed = await Promise.allSettled([enqueuer.enqueue(JOB.work, { label: 'ok-1' }), enqueuer.enqueue('bad job', {}), enqueuer.enqueue(JOB.work, { label: 'ok-2' })]);
    expect(mixed.map((m) => m.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await waitFor(async () => (await h.log(`kind = 'end' AND (label LIKE 'single-%' OR label LIKE 'ok-%')`)).length === 62, { what: '62 runs' });
    for (const r of runs) expect(await starts(r.runId)).toEqual([1]);
  });

  it('hands a retried job (attempt 2) and a snoozed one (still attempt 1) off alone, and dead-letters another with its own envelope', async () => {
    const enqueuer = app.get(JobEnqueuer);
    const before = await lastSeq();
    const [flaky, snoozing, fragile, work] = await enqueuer.enqueueMany([
      { job: JOB.flaky, payload: { label: 'f' }, options: { companyId: 'acme' } },
      { job: JOB.flaky, payload: { label: 'snooze-1' }, options: { companyId: 'acme' } },
      { job: JOB.fragile, payload: { label: 'never-healed' }, options: { companyId: 'acme' } },
      { job: JOB.work, payload: { label: 'w' }, options: { companyId: 'acme' } },
    ]);
    await waitFor(async () => (await attemptsOf(flaky.runId)).length === 2, { what: 'the flaky run retried' });
    expect(await attemptsOf(flaky.runId)).toEqual(['1:retrying', '2:succeeded']);
    expect(await starts(flaky.runId)).toEqual([1, 2]);
    // Snoozed: handed off with its time, run again as the same attempt (a snooze uses none).
    await waitFor(async () => (await attemptsOf(snoozing.runId)).length === 1, { what: 'the snoozed run' });
    expect(await starts(snoozing.runId)).toEqual([1, 1]);
    expect(await attemptsOf(snoozing.runId)).toEqual(['1:succeeded']);
    expect(await deferralsOf(app, JOB.flaky, 'snoozed')).toBe(1);
    // Three messages (rt.flaky's two jobs in one pack, rt.fragile and rt.work alone) and two hand-offs (the retry, the snooze).
    expect((await lastSeq()) - before).toBe(3 + 2);
    const letter = await waitFor(() => h.database.query<{ reason: string; payload: string }>(`SELECT * FROM dead_letters WHERE id = $1`, [fragile.runId]).then((r) => r[0]), { what: 'the dead letter' });
    expect(letter.reason).toBe('permanent_error');
    const stored = JSON.parse(letter.payload);
    expect(stored).toMatchObject({ id: fragile.runId, type: JOB.fragile, companyid: 'acme' });
    await waitFor(async () => (await attemptsOf(work.runId)).length === 1, { what: 'the plain run' });
  });

  it('a pack that comes back runs nothing twice: finished jobs are skipped, the rest run once, and a late second hand-off is dropped', async () => {
    await app.close();
    h.apps.splice(h.apps.indexOf(app), 1);
    // Run A finishes first, as its own message.
    const worker = await h.app({ concurrency: 2, env });
    await h.publish(JOB.work, { label: 'A' }, { runId: 'p-a', companyId: 'acme' });
    await waitFor(async () => (await attemptsOf('p-a')).length === 1, { what: 'A done' });
    await worker.close();
    h.apps.splice(h.apps.indexOf(worker), 1);

    // A pack holding A, B, C and D is taken by a worker that dies before settling any of it (pulled, never acked);
    // before dying it had deferred D, handing it off alone as attempt 1 (what a snooze or a full tenant buffer does).
    const event = (id: string, extra: Record<string, unknown> = {}) =>
      createCloudEvent({ type: JOB.work, source: 'test', id, companyId: 'acme', data: { runId: id, payload: { label: id }, scheduledFor: new Date().toISOString(), companyId: 'acme', ...extra } });
    const events = ['p-a', 'p-b', 'p-c', 'p-d'].map((id) => event(id));
    const pack = packMessage(subjects.job('normal', JOB.work), events.map(encodeCloudEvent), events);
    await h.js.publish(pack.subject, pack.data, { headers: pack.headers, msgID: pack.headers!.get('Nats-Msg-Id') });
    const consumer = await h.js.consumers.get(STREAMS.JOBS, 'rt-jobs-normal');
    const taken = await consumer.next({ expires: 1_000 });
    expect(taken?.info.deliveryCount).toBe(1);
    expect((await h.jsm.consumers.info(STREAMS.JOBS, 'rt-jobs-normal')).config.ack_policy).toBe(AckPolicy.Explicit);
    await h.js.publish(subjects.job('normal', JOB.work), encodeCloudEvent(event('p-d', { notBefore: new Date(Date.now() + 6_000).toISOString() })), { msgID: handOffMessageId('p-d', 1) });
    await sleep(2_500); // past the ack wait: the pack is redelivered to the next worker

    await h.app({ concurrency: 2, env });
    await waitFor(async () => (await attemptsOf('p-b')).length === 2 && (await attemptsOf('p-c')).length === 2, { what: 'B and C run' });
    await waitFor(async () => (await attemptsOf('p-d')).length === 1, { what: 'D runs' });
    await waitFor(async () => (await h.jsm.streams.info(STREAMS.JOBS)).state.messages === 0, { what: 'JOBS empty' });
    // A finished before: not run again. B and C were cut short with the pack: attempt 1 is recorded lost, as a
    // redelivered message of their own would show, and they ran once more as attempt 2.
    expect(await starts('p-a')).toEqual([1]);
    expect(await attemptsOf('p-a')).toEqual(['1:succeeded']);
    expect(await starts('p-b')).toEqual([2]);
    expect(await attemptsOf('p-b')).toEqual(['1:lost', '2:succeeded']);
    expect(await starts('p-c')).toEqual([2]);
    // D was carried on by its deferral's hand-off: the pack's copy of it was the same message id, stored once.
    expect(await starts('p-d')).toEqual([1]);
    expect(await attemptsOf('p-d')).toEqual(['1:succeeded']);

    // The same hand-off again, past JetStream's duplicate window (another id): history says it ran, so it does not run again.
    const copy = createCloudEvent({ type: JOB.work, source: 'test', id: 'p-b', companyId: 'acme', data: { runId: 'p-b', payload: { label: 'p-b' }, scheduledFor: new Date().toISOString(), companyId: 'acme', rehanded: true } });
    await h.js.publish(subjects.job('normal', JOB.work), encodeCloudEvent(copy), { msgID: 'p-b:late-copy' });
    await waitFor(async () => (await h.jsm.streams.info(STREAMS.JOBS)).state.messages === 0, { what: 'the copy acked' });
    await sleep(300);
    expect(await starts('p-b')).toEqual([2]);
  });
});
