import { ManualClock } from '../../../libs/common/src/index.js';
import { InProcessScheduler, SchedulerTestEnv } from './scheduler-support.js';

const HOUR = 3_600_000;
const STEP = 10 * 60_000;

interface Window {
  zone: string;
  /** Clock start and end of the walk (UTC). */
  from: string;
  to: string;
  /** Expected fire instants of the daily 02:30 schedule inside the walk. */
  daily: string[];
  /** Restart the scheduler at this instant (inside the repeated hour). */
  restartAt?: string;
}

// 2026 transitions: Berlin 29 Mar / 25 Oct, New York 8 Mar / 1 Nov, Sydney 5 Apr (back) / 4 Oct (forward).
// São Paulo has had no DST since 2019: its 02:30 stays at 05:30Z through the old changeover dates.
const WINDOWS: Window[] = [
  { zone: 'Europe/Berlin', from: '2026-03-27T22:00:00Z', to: '2026-03-30T22:00:00Z', daily: ['2026-03-28T01:30:00Z', '2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z'] },
  { zone: 'Europe/Berlin', from: '2026-10-23T22:00:00Z', to: '2026-10-26T22:00:00Z', daily: ['2026-10-24T00:30:00Z', '2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z'], restartAt: '2026-10-25T01:15:00Z' },
  { zone: 'America/New_York', from: '2026-03-07T04:00:00Z', to: '2026-03-10T04:00:00Z', daily: ['2026-03-07T07:30:00Z', '2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z'] },
  { zone: 'America/New_York', from: '2026-10-31T04:00:00Z', to: '2026-11-03T04:00:00Z', daily: ['2026-10-31T06:30:00Z', '2026-11-01T07:30:00Z', '2026-11-02T07:30:00Z'], restartAt: '2026-11-01T06:20:00Z' },
  { zone: 'Australia/Sydney', from: '2026-04-03T13:00:00Z', to: '2026-04-06T14:00:00Z', daily: ['2026-04-03T15:30:00Z', '2026-04-04T15:30:00Z', '2026-04-05T16:30:00Z'], restartAt: '2026-04-04T16:15:00Z' },
  { zone: 'Australia/Sydney', from: '2026-10-02T14:00:00Z', to: '2026-10-05T13:00:00Z', daily: ['2026-10-02T16:30:00Z', '2026-10-03T16:00:00Z', '2026-10-04T15:30:00Z'] },
  { zone: 'America/Sao_Paulo', from: '2026-10-31T03:00:00Z', to: '2026-11-03T03:00:00Z', daily: ['2026-10-31T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-02T05:30:00Z'] },
];

describe('scheduler across the 2026 DST transitions (injected clock)', () => {
  const env = new SchedulerTestEnv();
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  let scheduler: InProcessScheduler;

  beforeAll(async () => {
    await env.start({ SCHEDULER_POLL_MS: '60000' });
    scheduler = await new InProcessScheduler(clock).start();
  });

  afterAll(async () => {
    await scheduler?.stop();
    await env.stop();
  });

  it.each(WINDOWS.map((w) => [`${w.zone} ${w.from.slice(0, 10)}${w.restartAt ? ' (restart in the repeated hour)' : ''}`, w] as const))(
    '%s: daily 02:30 fires once a day per the Vixie policy, hourly once per real hour',
    async (_label, w) => {
      clock.set(w.from);
      const tag = `${w.zone.replace(/\W/g, '-')}-${w.from.slice(0, 10)}`;
      const daily = await scheduler.schedules.create({ name: `daily-${tag}`, kind: 'cron', cron: '30 2 * * *', timezone: w.zone, job: 'dst.daily' });
      const hourly = await scheduler.schedules.create({ name: `hourly-${tag}`, kind: 'cron', cron: '0 * * * *', timezone: w.zone, job: 'dst.hourly' });
      const end = new Date(w.to).getTime();
      while (clock.now().getTime() < end) {
        clock.advance(STEP);
        if (w.restartAt && clock.now().getTime() === new Date(w.restartAt).getTime()) {
          await scheduler.stop();
          scheduler = await new InProcessScheduler(clock).start();
        }
        await scheduler.claim();
      }
      await scheduler.schedules.disable(daily.id);
      await scheduler.schedules.disable(hourly.id);

      const dailyRuns = await env.runs(daily.id);
      expect(dailyRuns.map((r) => r.occurrence_at.toISOString())).toEqual(w.daily.map((d) => new Date(d).toISOString()));

      const hourlyRuns = (await env.runs(hourly.id)).map((r) => r.occurrence_at.getTime());
      const firstHour = Math.ceil(new Date(w.from).getTime() / HOUR) * HOUR;
      const expected = [];
      for (let t = firstHour; t <= end; t += HOUR) expected.push(t);
      // Whole-hour offsets: every real hour exactly once, through the gap and the repeated hour.
      expect(hourlyRuns).toEqual(expected);

      // Every run was published once, with the run id as message id.
      const published = await env.messages('jobs.normal.dst.daily');
      for (const r of dailyRuns) expect(published.filter((m) => m.id === r.id)).toHaveLength(1);
      for (const r of [...(await env.runs(daily.id)), ...(await env.runs(hourly.id))]) expect(r.state).toBe('queued');
    },
    120_000,
  );

  it('previews the next fire times with the same rules', async () => {
    clock.set('2026-03-27T00:00:00Z');
    const s = await scheduler.schedules.create({ name: 'preview-berlin', kind: 'cron', cron: '30 2 * * *', timezone: 'Europe/Berlin', job: 'dst.preview' });
    const times = await scheduler.schedules.preview(s.id, 3);
    expect(times.map((t) => t.toISOString())).toEqual(['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z']);
    await scheduler.schedules.remove(s.id);
  });
});
