import type { JobDeadEvent, JobTimedOutEvent } from '../../../libs/common/src/index.js';
import { EVENT_TYPES, PLATFORM_TENANT } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';
import { JOB, RuntimeHarness } from '../runtime/runtime-support.js';

interface Seen<T> {
  subject: string;
  id: string;
  source: string;
  companyid?: string;
  data: T;
}

/**
 * The other side of the alerts: any service's job runtime publishes job.timed_out
 * when it aborts an attempt at its timeout, and job.dead when it dead-letters,
 * in the run's tenant or in the platform scope for a run without one.
 */
describe('failure events from the job runtime', () => {
  const h = new RuntimeHarness();
  const seen: Seen<unknown>[] = [];
  const of = <T>(type: string) => seen.filter((e) => e.subject.endsWith(`.${type}`)) as Seen<T>[];

  beforeAll(async () => {
    await h.start();
    h.nc.subscribe('events.*.job.>', {
      callback: (_e, m) => {
        const e = m.json<Omit<Seen<unknown>, 'subject'>>();
        seen.push({ subject: m.subject, id: e.id, source: e.source, companyid: e.companyid, data: e.data });
      },
    });
    await h.app({ concurrency: 4 });
  });
  afterAll(() => h.stop());

  it('a timed-out attempt publishes job.timed_out in its tenant, and the last one says so', async () => {
    await h.publish(JOB.slow, { overrunAttempts: 99 }, { runId: 'slow-acme', companyId: 'acme' });
    const timeouts = (await waitFor(() => {
      const t = of<JobTimedOutEvent>(EVENT_TYPES.jobTimedOut).filter((e) => e.data.runId === 'slow-acme');
      return t.length === 3 ? t : undefined;
    }, { what: 'three timeouts' }))!;
    expect(timeouts.map((e) => [e.subject, e.id, e.companyid, e.data.attempt, e.data.final])).toEqual([
      ['events.acme.job.timed_out', 'timeout-slow-acme-1', 'acme', 1, false],
      ['events.acme.job.timed_out', 'timeout-slow-acme-2', 'acme', 2, false],
      ['events.acme.job.timed_out', 'timeout-slow-acme-3', 'acme', 3, true],
    ]);
    expect(timeouts[0].data).toMatchObject({ job: JOB.slow, companyId: 'acme', maxAttempts: 3, timeoutMs: 400 });
    expect(timeouts[0].source).toBe('metronome/rt');
    // The last timeout dead-letters the run: job.dead follows, in the same tenant.
    const dead = (await waitFor(() => of<JobDeadEvent>(EVENT_TYPES.jobDead).find((e) => e.data.runId === 'slow-acme'), { what: 'job.dead' }))!;
    expect(dead.subject).toBe('events.acme.job.dead');
    expect(dead.data).toMatchObject({ job: JOB.slow, kind: 'job', reason: 'attempts_exhausted', attempts: 3, deadLetterId: 'slow-acme', consumer: 'rt-jobs-normal' });
    expect(dead.data.error).toContain('timed out after 400 ms');
  });

  it('a run without a tenant is reported in the platform scope', async () => {
    await h.publish(JOB.fragile, { label: 'never-healed' }, { runId: 'fragile-platform' });
    const dead = (await waitFor(() => of<JobDeadEvent>(EVENT_TYPES.jobDead).find((e) => e.data.runId === 'fragile-platform'), { what: 'platform job.dead' }))!;
    expect([dead.subject, dead.companyid]).toEqual([`events.${PLATFORM_TENANT}.job.dead`, PLATFORM_TENANT]);
    expect(dead.data).toMatchObject({ job: JOB.fragile, reason: 'permanent_error', attempts: 1 });
    const stored = await h.database.query<{ id: string }>(`SELECT id FROM dead_letters WHERE id = 'fragile-platform'`);
    expect(stored).toHaveLength(1);
  });
});
