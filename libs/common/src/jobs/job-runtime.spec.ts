import { afterEach, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../config/config.schema.js';
import { JobRuntime, type JobRuntimeOptions } from './job-runtime.js';
import type { Delivery } from './runtime/delivery.js';
import type { JobSpec } from './runtime/job-spec.js';
import type { Outcome } from './runtime/outcome.js';
import type { SettleListener } from './runtime/pending-settlement.js';

/**
 * The runtime with its collaborators faked: handlers succeed at once, and every
 * settlement stays open until the test releases it (a history write that has
 * not committed yet).
 */
function runtimeWithOpenSettlements(slots: number, opts: { synchronous?: boolean; settleAtOnce?: boolean; firstWaits?: boolean } = {}) {
  let finishFirst = () => undefined as void;
  const settled: { runId: string; urgent: boolean; release: () => void }[] = [];
  const started: string[] = [];
  let admit: (d: Delivery) => void = () => undefined;
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
  const options: JobRuntimeOptions = { names: ['report.build'], consumers: [{ stream: 'JOBS', durable: 'report', ackWaitMs: 30_000 } as never], concurrency: slots };
  const config = { ackWaitMs: 30_000, shutdownGraceMs: 0, jobs: { tenantConcurrency: 0, tenantBuffer: 1_000, pausedRecheckMs: 1_000, concurrencyByService: {} } } as unknown as AppConfig;
  const fake = <T>(x: unknown) => x as T;
  const runtime = new JobRuntime(
    options, config, fake(silent), 'reports', fake({}), fake({}),
    fake({ start: async (_c: unknown, _s: unknown, onDue: (d: Delivery) => void) => void (admit = onDue), stop: async () => undefined }),
    fake({ held: 0, heldDeliveries: () => [] }),
    fake({
      run: (d: Delivery): Outcome | Promise<Outcome> => {
        started.push(d.event.id);
        const outcome: Outcome = { kind: 'succeeded', result: { status: 'success' } };
        if (d.event.id === 'run-1' && opts.firstWaits) return new Promise<Outcome>((resolve) => (finishFirst = () => resolve(outcome)));
        return opts.synchronous ? outcome : Promise.resolve(outcome);
      },
    }),
    fake({
      settleThen: (d: Delivery, _o: Outcome, _s: Date, _ms: number, urgent: boolean, after: SettleListener) => {
        if (opts.settleAtOnce) return after.settled();
        settled.push({ runId: d.event.id, urgent, release: () => after.settled() });
      },
    }),
    fake({ defer: async () => undefined, idle: async () => undefined }),
    fake({ watch: async () => undefined, onPauseChange: () => undefined, onQueuePauseChange: () => undefined, isPaused: () => false, isQueuePaused: () => false, stop: () => undefined }),
    fake({}), fake({ flush: async () => undefined }), fake({}), fake({}),
  );
  runtime.specs.set('report.build', { name: 'report.build' } as JobSpec);
  const delivery = (n: number) => fake<Delivery>({
    event: { id: `run-${n}` }, spec: { name: 'report.build' }, parts: { companyId: `tenant-${n % 8}` }, priority: 'normal', ledger: {},
    msg: { info: { stream: 'JOBS', streamSequence: n, deliveryCount: 1 }, working: () => undefined },
    key: `JOBS.${n}`,
  });
  return { runtime, settled, started, admit: (n: number) => admit(delivery(n)), finishFirst: () => finishFirst() };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('JobRuntime settling cap', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  it('gives a slot back while the outcome is written, and beyond 8 writes per slot holds it and sends the history batch without waiting out the window', async () => {
    const rt = runtimeWithOpenSettlements(1);
    await rt.runtime.onApplicationBootstrap();
    stop = () => rt.runtime.beforeApplicationShutdown();
    for (let n = 1; n <= 10; n++) rt.admit(n);
    await turn();

    // One slot: 8 finished jobs wait for their write without holding it; the 9th holds it and hurries its batch.
    expect(rt.started).toHaveLength(9);
    expect(rt.settled.map((s) => s.urgent)).toEqual([...Array(8).fill(false), true]);
    expect(rt.runtime.stats()).toEqual({ running: 1, waiting: 1, early: 0 });

    // The write of an earlier job commits: room to settle, but the slot stays with the 9th until its own commits.
    rt.settled[0].release();
    await turn();
    expect(rt.started).toHaveLength(9);
    rt.settled[8].release();
    await turn();
    expect(rt.started).toEqual(Array.from({ length: 10 }, (_, i) => `run-${i + 1}`));
    expect(rt.settled[9]).toMatchObject({ runId: 'run-10', urgent: false });
    for (const s of rt.settled) s.release();
  });

  it('runs a backlog of synchronous handlers whose settlements end at once in one loop, not nested calls', async () => {
    const rt = runtimeWithOpenSettlements(1, { synchronous: true, settleAtOnce: true, firstWaits: true });
    await rt.runtime.onApplicationBootstrap();
    stop = () => rt.runtime.beforeApplicationShutdown();
    // The first job holds the one slot while 8,000 wait (eight tenants, a full lane); when it ends, each job after it
    // frees the slot inside the dispatch loop: a nested refill per job would overflow the stack.
    for (let n = 1; n <= 8_000; n++) rt.admit(n);
    expect(rt.runtime.stats()).toEqual({ running: 1, waiting: 7_999, early: 0 });
    rt.finishFirst();
    await turn();
    expect(rt.started).toHaveLength(8_000);
    expect(rt.runtime.stats()).toEqual({ running: 0, waiting: 0, early: 0 });
  });
});
