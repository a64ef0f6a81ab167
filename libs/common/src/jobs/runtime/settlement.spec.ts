import { describe, expect, it } from '@jest/globals';
import type { AttemptRecord } from '../history/attempt-record.js';
import type { Completion } from '../../util/overlapping-batcher.js';
import type { Delivery } from './delivery.js';
import { Settlement } from './settlement.js';

function settlementWritingTo(recorded: { outcome: string; attempt: number; urgent: boolean }[]) {
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
  );
}

const delivery = (acked: string[], lost: number[] = []) => ({
  msg: { info: { stream: 'JOBS', streamSequence: 7, deliveryCount: 1 + lost.length, timestampNanos: Date.now() * 1e6 }, ack: () => acked.push('ack') },
  event: { id: 'run-7' }, spec: { name: 'report.build' }, parts: { companyId: 'acme', planned: false, payload: {} },
  priority: 'normal', declaration: { stream: 'JOBS', durable: 'report' }, attempt: 1 + lost.length, lost, ledger: {}, maxAttempts: 5,
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
});
