import { AttemptAbort } from '../attempt-abort.js';
import type { PreparedRun } from '../durability/durability.service.js';
import type { StepRunner } from '../steps/step-runner.js';
import { AttemptContext } from './attempt-context.js';
import type { Delivery } from './delivery.js';

function context() {
  const progress: [number, string | null][] = [];
  let worked = 0;
  const step = { run: async () => undefined } as unknown as StepRunner;
  const d = {
    event: { id: 'run-1' },
    spec: { name: 'reports.daily' },
    parts: { companyId: 'acme', scheduledFor: new Date('2026-12-04T08:00:00Z') },
    attempt: 2,
    maxAttempts: 5,
    priority: 'high',
    msg: { working: () => void worked++ },
  } as unknown as Delivery;
  const durable = { payload: { day: 'monday' }, logger: { info: () => undefined }, childResults: [], done: () => undefined, step } as unknown as PreparedRun;
  const abort = new AttemptAbort();
  const ctx = new AttemptContext(d, { day: 'monday' }, abort, { progress: (p, m) => void progress.push([p, m]), done: () => undefined }, durable);
  return { ctx, abort, progress, worked: () => worked, step };
}

describe('AttemptContext', () => {
  it('carries the attempt as the handler sees it', () => {
    const { ctx, step } = context();
    expect(ctx).toMatchObject({ runId: 'run-1', job: 'reports.daily', companyId: 'acme', attempt: 2, maxAttempts: 5, priority: 'high', payload: { day: 'monday' } });
    expect(ctx.scheduledFor?.toISOString()).toBe('2026-12-04T08:00:00.000Z');
    expect(ctx.step).toBe(step);
    expect(ctx.childResults).toEqual([]);
  });

  it('works when a handler takes its methods apart (const { progress, throwIfAborted } = ctx)', async () => {
    const { ctx, abort, progress, worked } = context();
    const { progress: report, working, throwIfAborted, signal } = ctx;
    await report(140.4, 'almost');
    await report(-3);
    working();
    expect(progress).toEqual([[100, 'almost'], [0, null]]);
    expect(worked()).toBe(1);
    expect(() => throwIfAborted()).not.toThrow();
    abort.abort(new Error('cancelled by an operator'));
    expect(signal.aborted).toBe(true);
    expect(() => throwIfAborted()).toThrow('cancelled by an operator');
  });
});
