import { createCloudEvent, encodeCloudEvent, EVENT_TYPES, JobEnqueuer, ManualClock, subjects } from '../../../libs/common/src/index.js';
import { RetentionService } from '../../../apps/scheduler/src/retention/retention.service.js';
import { ScheduleRegistry } from '../../../apps/scheduler/src/schedules/schedule-registry.js';
import { sleep, waitFor } from '../../support/wait.js';
import { InProcessScheduler, SchedulerTestEnv } from './scheduler-support.js';

describe('schedule service, registry, triggers, enqueuer and retention', () => {
  const env = new SchedulerTestEnv();
  // Fixed, not the wall clock: the poll loop reads the clock before it claims, so a wall-clock reading taken before a test sets its
  // instant could claim a schedule that test registers (a cron fired during the registration test in CI).
  const clock = new ManualClock('2026-07-01T08:00:00Z');
  let scheduler: InProcessScheduler;

  beforeAll(async () => {
    await env.start({ SCHEDULER_POLL_MS: '50' });
    scheduler = await new InProcessScheduler(clock).start();
  }, 60_000);

  afterAll(async () => {
    await scheduler?.stop();
    await env.stop();
  });

  const row = async (name: string) => (await env.database.query<{ next_fire_at: Date | null; run_at: Date | null; source: string; cron: string }>('SELECT * FROM schedules WHERE name = $1', [name]))[0];

  it('registers schedules from code idempotently: a restart keeps cursors and one-off instants', async () => {
    // A fixed instant far from 03:00 Berlin: from the wall clock, a run between 01:50 and 02:00 UTC saw the cron fire during the restart.
    clock.set('2026-07-01T08:00:00Z');
    const registry = scheduler.app!.get(ScheduleRegistry);
    await registry.registerCron('code.cron', '0 3 * * *', 'Europe/Berlin', 'code.cron-job', { a: 1 }, { priority: 'high', maxAttempts: 3 });
    await registry.registerDelayed('code.once', 3_600_000, 'code.once-job');
    const before = { cron: await row('code.cron'), once: await row('code.once') };
    expect(before.cron.source).toBe('code');
    expect(before.once.run_at!.getTime()).toBe(clock.now().getTime() + 3_600_000);

    // A restart an hour later (same definitions) changes nothing.
    await scheduler.stop();
    clock.advance(600_000);
    scheduler = await new InProcessScheduler(clock).start();
    const again = scheduler.app!.get(ScheduleRegistry);
    await again.registerCron('code.cron', '0 3 * * *', 'Europe/Berlin', 'code.cron-job', { a: 1 }, { priority: 'high', maxAttempts: 3 });
    await again.registerDelayed('code.once', 3_600_000, 'code.once-job');
    expect(await row('code.cron')).toEqual(before.cron);
    expect(await row('code.once')).toEqual(before.once);

    // A changed definition is applied and its next fire time recomputed.
    await again.registerCron('code.cron', '0 4 * * *', 'Europe/Berlin', 'code.cron-job', { a: 1 }, { priority: 'high', maxAttempts: 3 });
    const changed = await row('code.cron');
    expect(changed.cron).toBe('0 4 * * *');
    expect(changed.next_fire_at!.getTime() - before.cron.next_fire_at!.getTime()).toBe(3_600_000);
  });

  it('changes, pauses, disables, previews, triggers and removes through service methods', async () => {
    clock.set('2026-07-01T08:00:00Z');
    const s = await scheduler.schedules.create({ name: 'svc.daily', kind: 'cron', cron: '0 9 * * *', timezone: 'America/New_York', job: 'svc.work', payload: { kind: 'daily' } });
    expect((await scheduler.schedules.preview(s.id, 2)).map((d) => d.toISOString())).toEqual(['2026-07-01T13:00:00.000Z', '2026-07-02T13:00:00.000Z']);
    const changed = await scheduler.schedules.change('svc.daily', { cron: '30 9 * * 1-5', maxRuns: 2 });
    expect(changed.nextFireAt!.toISOString()).toBe('2026-07-01T13:30:00.000Z');
    expect(await scheduler.schedules.preview(s.id, 10)).toHaveLength(2);
    expect((await scheduler.schedules.pause(s.id)).paused).toBe(true);
    expect((await scheduler.schedules.resume(s.id)).paused).toBe(false);
    expect((await scheduler.schedules.disable(s.id)).enabled).toBe(false);
    expect((await scheduler.schedules.enable(s.id)).enabled).toBe(true);
    await expect(scheduler.schedules.change(s.id, { cron: 'nope' })).rejects.toThrow(/cron/);

    const [run] = await scheduler.schedules.trigger(s.id, { payload: { manual: true } });
    await waitFor(async () => (await env.database.query(`SELECT 1 FROM job_runs WHERE id = $1 AND state = 'queued'`, [run.runId])).length === 1, { what: 'manual run queued' });
    const [message] = await env.messages('jobs.normal.svc.work');
    expect(message.id).toBe(run.runId);
    expect(message.data).toMatchObject({ runId: run.runId, scheduleId: s.id, payload: { manual: true } });

    await scheduler.schedules.remove(s.id);
    await expect(scheduler.schedules.get(s.id)).rejects.toThrow(/No schedule/);
  });

  it('starts a job for a domain event, once per event, carrying its tenant', async () => {
    const s = await scheduler.schedules.create({ name: 'svc.on-member', kind: 'event', eventType: EVENT_TYPES.memberUpserted, job: 'svc.welcome', scope: 'per_tenant', payload: { template: 'welcome' } });
    // member.upserted has a contract: the payload must satisfy it, or the event is dead-lettered instead of starting a job.
    const member = { userId: 'm1', companyId: 'acme', roles: ['inspector'], version: 1 };
    const event = createCloudEvent({ type: EVENT_TYPES.memberUpserted, source: 'test', companyId: 'acme', data: member });
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(env.nc).publish(subjects.event('acme', EVENT_TYPES.memberUpserted), encodeCloudEvent(event), { msgID: event.id });
    const runs = await waitFor(async () => {
      const r = await env.database.query<{ id: string; company_id: string; payload: { template: string; event: { id: string; data: unknown } }; state: string }>('SELECT id, company_id, payload, state FROM job_runs WHERE schedule_id = $1', [s.id]);
      return r.length === 1 && r[0].state === 'queued' ? r : undefined;
    }, { what: 'event-triggered run' });
    expect(runs![0].company_id).toBe('acme');
    expect(runs![0].payload).toMatchObject({ template: 'welcome', event: { id: event.id, data: member } });
    // The same event again (a redelivery) plans nothing new.
    expect(await scheduler.schedules.onEvent({ id: event.id, type: event.type, companyId: 'acme', data: {} })).toBe(0);
    expect((await scheduler.schedules.get(s.id)).runCount).toBe(1);

    // A type no constant names, created at run time, is consumed at once.
    const custom = await scheduler.schedules.create({ name: 'svc.on-custom', kind: 'event', eventType: 'invoice.paid', job: 'svc.receipt' });
    const paid = createCloudEvent({ type: 'invoice.paid', source: 'test', companyId: 'globex', data: { invoice: 7 } });
    await jetstream(env.nc).publish(subjects.event('globex', 'invoice.paid'), encodeCloudEvent(paid), { msgID: paid.id });
    await waitFor(async () => (await env.database.query(`SELECT 1 FROM job_runs WHERE schedule_id = $1 AND company_id = 'globex'`, [custom.id])).length === 1, { what: 'custom event run' });
  });

  it('enqueues transactionally: idempotency key within its window, bulk, delay and priority', async () => {
    clock.set(Date.now());
    const enqueuer = scheduler.app!.get(JobEnqueuer);
    const first = await enqueuer.enqueue('svc.once', { n: 1 }, { idempotencyKey: 'k1', companyId: 'acme', priority: 'critical' });
    const second = await enqueuer.enqueue('svc.once', { n: 2 }, { idempotencyKey: 'k1', companyId: 'acme' });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ runId: first.runId, created: false });
    // Outside the window the key plans a new run.
    clock.advance(1_000);
    const later = await enqueuer.enqueue('svc.once', { n: 3 }, { idempotencyKey: 'k1', idempotencyWindowMs: 500 });
    expect(later.runId).not.toBe(first.runId);
    await waitFor(async () => (await env.messages('jobs.critical.svc.once')).length === 1, { what: 'critical message' });

    const bulk = await enqueuer.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ job: 'svc.bulk', payload: { i }, options: { idempotencyKey: `b${i % 100}` } })));
    expect(new Set(bulk.map((r) => r.runId)).size).toBe(100);
    await waitFor(async () => (await env.messages('jobs.normal.svc.bulk')).length === 100, { what: 'bulk published' });

    const delayed = await enqueuer.enqueue('svc.later', {}, { delayMs: 1_500 });
    await sleep(300);
    expect((await env.database.query<{ state: string }>('SELECT state FROM job_runs WHERE id = $1', [delayed.runId]))[0].state).toBe('scheduled');
    expect(await env.messages('jobs.normal.svc.later')).toHaveLength(0);
    await waitFor(async () => (await env.messages('jobs.normal.svc.later')).length === 1, { what: 'delayed run published' });
  });

  it('deletes runs past retention and keeps failed and dead runs longer', async () => {
    clock.set(Date.now());
    const old = (days: number) => new Date(Date.now() - days * 86_400_000);
    const insert = (id: string, state: string, created: Date) =>
      env.database.query(`INSERT INTO job_runs (id, job, queue, state, scheduled_for, created_at) VALUES ($1, 'svc.old', 'normal', $2, $3, $3)`, [id, state, created]);
    await insert('ok-100', 'succeeded', old(100));
    await insert('ok-10', 'succeeded', old(10));
    await insert('failed-100', 'failed', old(100));
    await insert('dead-200', 'dead', old(200));
    const report = await scheduler.app!.get(RetentionService).purge();
    expect(report.runs).toBeGreaterThanOrEqual(1);
    const left = (await env.database.query<{ id: string }>(`SELECT id FROM job_runs WHERE job = 'svc.old' ORDER BY id`)).map((r) => r.id);
    expect(left).toEqual(['failed-100', 'ok-10']);
    // It runs daily as the scheduler's own cron schedule.
    expect((await scheduler.schedules.get('metronome.retention')).cron).toBe('17 3 * * *');
  });
});
