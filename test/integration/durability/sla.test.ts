import { Injectable } from '@nestjs/common';
import { EVENT_TYPES, JobEnqueuer, JobEnqueuerModule, JobHandler, MetronomeMetrics, type JobContext, type JobSlaBreachedEvent } from '../../../libs/common/src/index.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';
import { sleep, waitFor } from './durability-support.js';

const SLA_JOB = 'rt.sla';

@Injectable()
class SlaHandlers {
  @JobHandler(SLA_JOB, { sla: { maxDurationMs: 300, maxLatenessMs: 2_000 } })
  async run(ctx: JobContext<{ sleepMs: number }>) {
    await sleep(ctx.payload.sleepMs);
  }
}

describe('SLAs', () => {
  const h = new RuntimeHarness();
  let enqueuer: JobEnqueuer;
  let metrics: MetronomeMetrics;
  const received: (JobSlaBreachedEvent & { receivedAt: number })[] = [];

  beforeAll(async () => {
    await h.start();
    const app = await h.app({ names: [SLA_JOB], providers: [SlaHandlers], imports: [JobEnqueuerModule] });
    enqueuer = app.get(JobEnqueuer);
    metrics = app.get(MetronomeMetrics);
    h.nc.subscribe(`events.*.${EVENT_TYPES.jobSlaBreached}`, {
      callback: (_e, m) => {
        received.push({ ...(m.json() as { data: JobSlaBreachedEvent }).data, receivedAt: Date.now() });
      },
    });
  });
  afterAll(() => h.stop());
  const breaches = async (runId: string) => (await h.database.query<{ kind: string }>('SELECT kind FROM job_sla_breaches WHERE run_id = $1 ORDER BY kind', [runId])).map((b) => b.kind);

  it('a run over its maximum duration breaches while still running: recorded, counted, published', async () => {
    const { runId } = await enqueuer.enqueue(SLA_JOB, { sleepMs: 900 }, { companyId: 'acme' });
    const event = (await waitFor(() => received.find((e) => e.runId === runId && e.kind === 'duration'), { what: 'job.sla_breached (duration)' }))!;
    expect(event).toMatchObject({ job: SLA_JOB, companyId: 'acme', kind: 'duration', limitMs: 300 });
    expect(event.observedMs).toBeGreaterThanOrEqual(300);
    // Published while the run was still running, not when it ended: heard before its attempt finished.
    await waitFor(async () => (await h.run(runId))?.state === 'succeeded');
    const finishedAt = new Date((await h.run(runId)).finished_at).getTime();
    expect(event.receivedAt).toBeLessThan(finishedAt);
    expect(await breaches(runId)).toEqual(['duration']);
  });

  it('a run starting later than its maximum lateness breaches once', async () => {
    const { runId } = await enqueuer.enqueue(SLA_JOB, { sleepMs: 10 }, { companyId: 'acme', runAt: new Date(Date.now() - 5_000) });
    const event = (await waitFor(() => received.find((e) => e.runId === runId && e.kind === 'lateness'), { what: 'job.sla_breached (lateness)' }))!;
    expect(event.observedMs).toBeGreaterThanOrEqual(5_000);
    await waitFor(async () => (await h.run(runId))?.state === 'succeeded');
    expect(await breaches(runId)).toEqual(['lateness']);
    // An on-time, quick run breaches nothing.
    const { runId: fine } = await enqueuer.enqueue(SLA_JOB, { sleepMs: 10 }, { companyId: 'acme' });
    await waitFor(async () => (await h.run(fine))?.state === 'succeeded');
    await sleep(400);
    expect(received.filter((e) => e.runId === fine)).toEqual([]);
    const counted = (await metrics.slaBreaches.get()).values;
    expect(counted.find((v) => v.labels.kind === 'duration' && v.labels.job === SLA_JOB)?.value).toBe(1);
    expect(counted.find((v) => v.labels.kind === 'lateness' && v.labels.job === SLA_JOB)?.value).toBe(1);
    // And the breach is in the EVENTS stream for the notifier, once per run and kind.
    const info = await h.jsm.streams.info('EVENTS', { subjects_filter: `events.acme.${EVENT_TYPES.jobSlaBreached}` });
    expect(info.state.messages).toBe(2);
  });
});
