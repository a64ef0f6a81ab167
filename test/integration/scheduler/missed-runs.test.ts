import { ManualClock } from '../../../libs/common/src/index.js';
import { InProcessScheduler, SchedulerTestEnv } from './scheduler-support.js';

const MINUTE = 60_000;

describe('a two-hour scheduler outage under each missed-run policy (clock jump)', () => {
  const env = new SchedulerTestEnv();
  const clock = new ManualClock('2026-06-01T10:00:00Z');
  let scheduler: InProcessScheduler;

  beforeAll(async () => {
    await env.start({ SCHEDULER_POLL_MS: '60000' });
    scheduler = await new InProcessScheduler(clock).start();
  });

  afterAll(async () => {
    await scheduler?.stop();
    await env.stop();
  });

  const times = async (id: string) => (await env.runs(id)).map((r) => r.occurrence_at.toISOString().slice(11, 16));

  it('skip fires nothing missed, fire_once one run, fire_all every occurrence (bounded)', async () => {
    const make = (name: string, missedPolicy: 'skip' | 'fire_once' | 'fire_all', maxCatchUp?: number) =>
      scheduler.schedules.create({ name, kind: 'cron', cron: '* * * * *', timezone: 'UTC', job: 'outage.work', missedPolicy, maxCatchUp });
    const skip = await make('skip', 'skip');
    const once = await make('once', 'fire_once');
    const all = await make('all', 'fire_all', 500);
    const bounded = await make('bounded', 'fire_all', 50);
    const ids = [skip.id, once.id, all.id, bounded.id];

    await scheduler.claim(); // 10:00
    clock.advance(MINUTE);
    await scheduler.claim(); // 10:01
    for (const id of ids) expect(await times(id)).toEqual(['10:00', '10:01']);

    // The scheduler is down from 10:01 to 12:01:30 (it is stopped, then restarted on the later clock).
    await scheduler.stop();
    clock.set('2026-06-01T12:01:30Z');
    scheduler = await new InProcessScheduler(clock).start();
    await scheduler.claim();

    // skip: nothing from the outage; 12:01 is 30 s late, inside the misfire threshold, so it is on time.
    expect(await times(skip.id)).toEqual(['10:00', '10:01', '12:01']);
    // fire_once: the backlog collapses into one run, for the latest occurrence.
    expect(await times(once.id)).toEqual(['10:00', '10:01', '12:01']);
    // fire_all: every occurrence 10:02 … 12:01.
    const allTimes = await times(all.id);
    expect(allTimes).toHaveLength(2 + 120);
    expect(allTimes.slice(0, 4)).toEqual(['10:00', '10:01', '10:02', '10:03']);
    expect(allTimes[allTimes.length - 1]).toBe('12:01');
    // fire_all bounded to 50: the 50 most recent.
    const boundedTimes = await times(bounded.id);
    expect(boundedTimes).toHaveLength(2 + 50);
    expect(boundedTimes[2]).toBe('11:12');

    // Back to normal: each fires 12:02 once.
    clock.set('2026-06-01T12:02:00.050Z');
    await scheduler.claim();
    await scheduler.claim();
    for (const id of ids) expect((await times(id)).filter((t) => t === '12:02')).toHaveLength(1);

    // Every planned run is published and queued.
    const states = await env.database.query<{ state: string; n: string }>(`SELECT state, count(*) n FROM job_runs WHERE job = 'outage.work' GROUP BY state`);
    expect(states).toEqual([{ state: 'queued', n: String(4 + 4 + 123 + 53) }]);
    expect(await env.messages('jobs.normal.outage.work')).toHaveLength(4 + 4 + 123 + 53);
  });

  it('skip drops an occurrence later than the misfire threshold; resume after a pause follows the policy', async () => {
    clock.set('2026-06-02T08:00:00Z');
    const daily = await scheduler.schedules.create({ name: 'daily-skip', kind: 'cron', cron: '0 9 * * *', timezone: 'UTC', job: 'outage.daily', missedPolicy: 'skip' });
    const paused = await scheduler.schedules.create({ name: 'paused-once', kind: 'cron', cron: '*/10 * * * *', timezone: 'UTC', job: 'outage.paused' });
    await scheduler.claim(); // 08:00 for paused-once
    await scheduler.schedules.pause(paused.id);
    clock.set('2026-06-02T11:05:00Z'); // two hours past 09:00
    await scheduler.claim();
    expect(await times(daily.id)).toEqual([]);
    expect(await times(paused.id)).toEqual(['08:00']);
    await scheduler.schedules.resume(paused.id);
    await scheduler.claim();
    expect(await times(paused.id)).toEqual(['08:00', '11:00']);
    expect((await scheduler.schedules.get(daily.id)).nextFireAt?.toISOString()).toBe('2026-06-03T09:00:00.000Z');
  }, 120_000);
});
