import { describe, expect, it } from '@jest/globals';
import type { AttemptRecord } from '../history/attempt-record.js';
import type { Completion } from '../../util/overlapping-batcher.js';
import type { Delivery } from './delivery.js';
import type { JobSettled, JobSettlementObserver } from './job-settled.js';
import { DEFAULT_BACKOFF } from '../../messaging/backoff.js';
import { Settlement } from './settlement.js';

function settlementWritingTo(recorded: { outcome: string; attempt: number; urgent: boolean }[], observers: JobSettlementObserver[] = []) {
  const series = { inc: () => undefined, observe: () => undefined };
  const fake = <T>(x: unknown) => x as T;
  return new Settlement(
    fake({
      recordThen: (r: AttemptRecord, urgent: boolean, then: Completion<void>) => {
        recorded.push({ outcome: r.outcome, attempt: r.attempt, urgent });
        then.resolve();
      },
    }),
    fake({}), fake({}), fake({ forget: () => undefined }), fake({}), fake({ instance: 'worker-1' }),
    fake({ jobRuns: { bind: () => series }, jobDuration: { bind: () => series }, lostAttempts: { inc: () => undefined } }),
    fake({ warn: () => undefined, error: () => undefined }),
    observers,
  );
}

const delivery = (acked: string[], lost: number[] = []) => ({
  msg: {
    info: { stream: 'JOBS', streamSequence: 7, deliveryCount: 1 + lost.length, timestampNanos: Date.now() * 1e6 },
    ack: () => acked.push('ack'), nak: () => acked.push('nak'),
  },
  event: { id: 'run-7' }, spec: { name: 'report.build' }, parts: { companyId: 'acme', planned: false, payload: {} },
  priority: 'normal', declaration: { stream: 'JOBS', durable: 'report' }, attempt: 1 + lost.length, lost, ledger: {}, maxAttempts: 5, backoff: DEFAULT_BACKOFF,
}) as unknown as Delivery;

describe('Settlement', () => {
  it('writes the outcome (and the attempts lost before it) urgently when a handler slot waits for it, then acks', async () => {
    const recorded: { outcome: string; attempt: number; urgent: boolean }[] = [];
    const acked: string[] = [];
    const s = settlementWritingTo(recorded);
    await s.settle(delivery(acked, [1]), { kind: 'succeeded', result: { status: 'success' } }, new Date(), 3, true);
    expect(recorded).toEqual([{ outcome: 'succeeded', attempt: 2, urgent: true }, { outcome: 'lost', attempt: 1, urgent: true }]);
    expect(acked).toEqual(['ack']);
  });

  it('leaves an ordinary outcome to the batching window', async () => {
    const recorded: { outcome: string; attempt: number; urgent: boolean }[] = [];
    const acked: string[] = [];
    await settlementWritingTo(recorded).settle(delivery(acked), { kind: 'succeeded', result: { status: 'success' } }, new Date(), 3);
    expect(recorded).toEqual([{ outcome: 'succeeded', attempt: 1, urgent: false }]);
    expect(acked).toEqual(['ack']);
  });

  it('tells the observers in order before the ack, waiting only for those that return a promise', async () => {
    const told: string[] = [];
    let release = () => undefined as void;
    const observers: JobSettlementObserver[] = [
      { onJobSettled: (x: JobSettled) => void told.push(`sync ${x.runId} ${x.outcome}`) },
      { onJobSettled: () => new Promise<void>((r) => (release = () => { told.push('async done'); r(); })) },
      { onJobSettled: () => void told.push('last') },
    ];
    const acked: string[] = [];
    const settled = settlementWritingTo([], observers).settle(delivery(acked), { kind: 'succeeded', result: { status: 'success' } }, new Date(), 3);
    await new Promise((r) => setImmediate(r));
    expect(told).toEqual(['sync run-7 succeeded']);
    expect(acked).toEqual([]);
    release();
    await settled;
    expect(told).toEqual(['sync run-7 succeeded', 'async done', 'last']);
    expect(acked).toEqual(['ack']);
  });

  it('leaves the message to come back when an observer fails', async () => {
    const acked: string[] = [];
    const failing: JobSettlementObserver = { onJobSettled: () => Promise.reject(new Error('parent row locked')) };
    await settlementWritingTo([], [failing]).settle(delivery(acked), { kind: 'succeeded', result: { status: 'success' } }, new Date(), 3);
    expect(acked).toEqual(['nak']);
  });
});
