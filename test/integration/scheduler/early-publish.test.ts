import { ManualClock } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { InProcessScheduler, SchedulerTestEnv } from './scheduler-support.js';

/**
 * Occurrences claimed within the look-ahead are published when the claim
 * commits, not at their due instant (workers hold them until then:
 * test/integration/runtime/early-delivery.test.ts). A long look-ahead makes
 * the difference visible without timing: the clock stands still before due.
 */
describe('scheduler: publishing ahead of the due instant', () => {
  const env = new SchedulerTestEnv();
  const clock = new ManualClock('2026-07-02T10:00:00Z');
  let scheduler: InProcessScheduler;

  beforeAll(async () => {
    await env.start({ SCHEDULER_POLL_MS: '50', SCHEDULER_LOOKAHEAD_MS: '10000' });
    scheduler = await new InProcessScheduler(clock).start();
  }, 60_000);

  afterAll(async () => {
    await scheduler?.stop();
    await env.stop();
  });

  it('publishes an occurrence as soon as it is claimed, carrying its due time, and marks it published before it is due', async () => {
    const due = new Date('2026-07-02T10:00:08Z');
    await scheduler.schedules.create({ name: 'ahead.once', kind: 'once', runAt: due, job: 'ahead.work', payload: { n: 1 } });
    await scheduler.firing.claimDue();
    // The clock never reaches the due instant: the message is there anyway.
    await waitFor(async () => (await env.messages('jobs.normal.ahead.work')).length === 1, { what: 'the occurrence published ahead', timeoutMs: 5_000 });
    const [message] = await env.messages('jobs.normal.ahead.work');
    expect(message.data.scheduledFor).toBe(due.toISOString());
    await waitFor(async () => (await env.database.query(`SELECT 1 FROM job_runs WHERE id = $1 AND state = 'queued'`, [message.id])).length === 1, { what: 'run marked queued' });
    const [run] = await env.database.query<{ published_at: Date; scheduled_for: Date }>(`SELECT published_at, scheduled_for FROM job_runs WHERE id = $1`, [message.id]);
    expect(run.scheduled_for.getTime()).toBe(due.getTime());
    expect(run.published_at.getTime()).toBeLessThan(due.getTime());
    expect(clock.now().getTime()).toBeLessThan(due.getTime());
  });
});
