import { Injectable } from '@nestjs/common';
import { JobEnqueuer, JobEnqueuerModule, JobHandler, JobStepsRepository, type JobContext } from '../../../libs/common/src/index.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';
import { waitFor } from './durability-support.js';

const STEPS_JOB = 'rt.steps';
/** Every step body that actually ran, as attempt:name. */
const executed: string[] = [];

@Injectable()
class StepHandlers {
  /** Four durable steps; the first attempt dies right after step two (as a crash would, before the run settled). */
  @JobHandler(STEPS_JOB, { maxAttempts: 3, backoff: { kind: 'fixed', baseMs: 200, capMs: 200, jitter: 0 } })
  async run(ctx: JobContext<{ accounts: number }>) {
    let total = 0;
    for (const name of ['fetch', 'transform', 'load', 'notify']) {
      total += await ctx.step.run(name, async () => {
        executed.push(`${ctx.attempt}:${name}`);
        return ctx.payload.accounts;
      });
      if (name === 'transform' && ctx.attempt === 1) throw new Error('worker killed after step two');
    }
    return { status: 'success' as const, recordsProcessed: total };
  }
}

describe('durable steps', () => {
  const h = new RuntimeHarness();
  let enqueuer: JobEnqueuer;
  let steps: JobStepsRepository;

  beforeAll(async () => {
    await h.start();
    const app = await h.app({ names: [STEPS_JOB], providers: [StepHandlers], imports: [JobEnqueuerModule] });
    enqueuer = app.get(JobEnqueuer);
    steps = app.get(JobStepsRepository);
  });
  afterAll(() => h.stop());

  it('a run killed after step two of four resumes at step three; steps one and two do not run again', async () => {
    const { runId } = await enqueuer.enqueue(STEPS_JOB, { accounts: 25 }, { companyId: 'acme' });
    const run = await waitFor(async () => {
      const r = await h.run(runId);
      return r?.state === 'succeeded' ? r : null;
    }, { what: 'the run to succeed on its second attempt' });

    expect(executed).toEqual(['1:fetch', '1:transform', '2:load', '2:notify']);
    expect(run!.attempts).toBe(2);
    // Replayed results count too: 4 steps x 25.
    expect(run!.result.recordsProcessed).toBe(100);

    // The run detail's steps (what the control plane's run route shows).
    const detail = await steps.forRun(runId, 'acme');
    expect(detail.map((s) => [s.name, s.attempt, s.result])).toEqual([
      ['fetch', 1, 25],
      ['transform', 1, 25],
      ['load', 2, 25],
      ['notify', 2, 25],
    ]);
    expect(await steps.forRun(runId, 'other-tenant')).toEqual([]);
  });
});
