import { describe, expect, it } from '@jest/globals';
import { CancelledError } from '../../messaging/errors.js';
import { AttemptRunner, JobTimeoutError } from './attempt-runner.js';
import type { Delivery } from './delivery.js';
import type { JobSpec } from './job-spec.js';
import { WorkerHeartbeat } from './worker-heartbeat.js';

const fake = <T>(x: unknown) => x as T;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, child: () => silent };

/** The runner with its collaborators faked, and a real heartbeat (the list of running attempts a cancellation walks). */
function runner() {
  let cancel: (runId: string, companyId: string | null) => void = () => undefined;
  const heartbeat = new WorkerHeartbeat(fake({}), 'reports', fake(silent));
  const timedOut: string[] = [];
  const r = new AttemptRunner(
    fake({ prepare: (input: { payload: unknown; logger: unknown }) => ({ payload: input.payload, logger: silent, childResults: [], done: () => undefined }) }),
    fake({ onCancel: (fn: typeof cancel) => void (cancel = fn), isCancelled: () => false }),
    heartbeat,
    fake({ declare: () => undefined, timedOut: (t: { runId: string }) => void timedOut.push(t.runId) }),
    fake({ jobLateness: { bind: () => ({ observe: () => undefined }) } }),
    fake(silent),
  );
  return { r, heartbeat, timedOut, cancel: (runId: string, companyId: string | null) => cancel(runId, companyId) };
}

function delivery(fn: JobSpec['fn'], timeoutMs = 60_000): Delivery {
  return fake<Delivery>({
    event: { id: 'run-1', data: {} }, spec: { name: 'report.build', fn, options: {} }, parts: { companyId: 'acme', payload: { n: 1 } },
    priority: 'normal', attempt: 1, maxAttempts: 3, timeoutMs, msg: { working: () => undefined },
  });
}

const running = (heartbeat: WorkerHeartbeat) => [...heartbeat.runningNow()].map((e) => e.d.event.id);

describe('AttemptRunner', () => {
  it('settles a handler that returns without a promise at once, with no promise, and lists it no longer', () => {
    const { r, heartbeat } = runner();
    const outcome = r.run(delivery(() => ({ status: 'success', recordsProcessed: 3 })));
    expect(outcome).not.toBeInstanceOf(Promise);
    expect(outcome).toEqual({ kind: 'succeeded', result: { status: 'success', recordsProcessed: 3 } });
    expect(running(heartbeat)).toEqual([]);
  });

  it('turns a synchronous throw into a retry, by the error type', () => {
    const { r } = runner();
    const outcome = r.run(delivery(() => {
      throw new Error('disk full');
    }));
    expect(outcome).toMatchObject({ kind: 'retry', error: new Error('disk full') });
  });

  it('times an async handler out with a retry and lists it while it runs, not after', async () => {
    const { r, heartbeat, timedOut } = runner();
    const outcome = r.run(delivery(() => new Promise(() => undefined), 20));
    expect(outcome).toBeInstanceOf(Promise);
    expect(running(heartbeat)).toEqual(['run-1']);
    const settled = await outcome;
    expect(settled).toMatchObject({ kind: 'retry' });
    expect((settled as { error: unknown }).error).toBeInstanceOf(JobTimeoutError);
    expect(timedOut).toEqual(['run-1']);
    expect(running(heartbeat)).toEqual([]);
  });

  it('aborts a running attempt an operator cancels, and only within its tenant', async () => {
    const { r, cancel } = runner();
    const outcome = r.run(delivery(() => new Promise(() => undefined))) as Promise<unknown>;
    let ended = false;
    void outcome.then(() => (ended = true));
    cancel('run-1', 'globex');
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    cancel('run-1', 'acme');
    const settled = await outcome;
    expect(settled).toMatchObject({ kind: 'cancelled' });
    expect((settled as { error: unknown }).error).toBeInstanceOf(CancelledError);
  });
});
