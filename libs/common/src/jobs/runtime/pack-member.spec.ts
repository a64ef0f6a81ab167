import type { JsMsg } from '@nats-io/jetstream';
import { createCloudEvent } from '../../messaging/cloud-event.js';
import { JobPack, PackMember } from './pack-member.js';
import type { HandOffOptions, PackHandOff } from './pack-hand-off.js';

function packMsg() {
  const calls: string[] = [];
  const msg = {
    info: { stream: 'JOBS', streamSequence: 7, deliveryCount: 1, timestampNanos: 0 },
    subject: 'jobs.normal.rt.work',
    ack: () => calls.push('ack'),
    nak: (ms?: number) => calls.push(`nak ${ms}`),
    working: () => calls.push('working'),
  } as unknown as JsMsg;
  return { msg, calls };
}

const event = (i: number) => createCloudEvent({ type: 'rt.work', source: 'test', id: `run-${i}`, data: { runId: `run-${i}`, payload: {} } });

function members(n: number, handOff: PackHandOff['handOff']) {
  const { msg, calls } = packMsg();
  const pack = new JobPack(msg, n);
  const handOffs = { handOff } as PackHandOff;
  return { calls, list: Array.from({ length: n }, (_, i) => new PackMember(pack, event(i), i, handOffs)) };
}

describe('PackMember', () => {
  it('acks the pack once every job settled, however (ack, term, hand-off), and only once', async () => {
    const handed: unknown[][] = [];
    const { calls, list } = members(3, async (...args) => void handed.push(args));
    list[0].ack();
    list[0].ack();
    list[1].term();
    expect(calls).toEqual([]);
    await list[2].handOff(1_000, 1);
    expect(calls).toEqual(['ack']);
    expect(handed).toHaveLength(1);
    const [subject, e, attempt, options] = handed[0] as [string, { id: string }, number, HandOffOptions];
    expect({ subject, id: e.id, attempt, rehanded: options.rehanded, lostInPack: options.lostInPack }).toEqual({
      subject: 'jobs.normal.rt.work', id: 'run-2', attempt: 2, rehanded: undefined, lostInPack: undefined,
    });
    expect(options.notBefore!.getTime()).toBeGreaterThan(Date.now());
  });

  it('naks the pack (to be unpacked from history) when a job could not settle or its hand-off failed', async () => {
    const { calls, list } = members(3, async () => {
      throw new Error('no stream');
    });
    list[0].ack();
    list[1].nak(2_000);
    await list[2].handOff(0, 0);
    expect(calls).toEqual(['nak 5000']);
  });

  it('keeps each job apart: its own key, its own envelope, attempt 1; asks for more time once per second per pack', () => {
    const { calls, list } = members(2, async () => undefined);
    expect(list.map((m) => m.key)).toEqual(['JOBS.7.0', 'JOBS.7.1']);
    expect(JSON.parse(Buffer.from(list[1].data).toString()).id).toBe('run-1');
    expect(list[0].attempt).toBe(1);
    list[0].working();
    list[1].working();
    expect(calls).toEqual(['working']);
  });
});
