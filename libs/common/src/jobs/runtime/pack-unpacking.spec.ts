import type { JsMsg } from '@nats-io/jetstream';
import { createCloudEvent } from '../../messaging/cloud-event.js';
import type { FinishedRuns, LastAttempt } from './finished-runs.js';
import type { HandOffOptions, PackHandOff } from './pack-hand-off.js';
import { PackUnpacking } from './pack-unpacking.js';

const history: Record<string, LastAttempt> = {
  done: { outcome: 'succeeded', attempt: 1, final: true },
  retrying: { outcome: 'retrying', attempt: 2, final: false },
  lost: { outcome: 'lost', attempt: 1, final: false },
};

function unpack(deliveryCount: number) {
  const handed: string[] = [];
  const finished = { last: async (id: string) => history[id] ?? null } as FinishedRuns;
  const handOffs = {
    handOff: async (_s: string, e: { id: string }, attempt: number, o: HandOffOptions) => void handed.push(`${e.id}:${attempt}:${o.notBefore ?? '-'}:${o.rehanded}:${o.lostInPack ?? false}`),
  } as unknown as PackHandOff;
  const msg = { subject: 'jobs.normal.rt.work', info: { deliveryCount } } as JsMsg;
  const events = ['done', 'retrying', 'lost', 'fresh'].map((id) => createCloudEvent({ type: 'rt.work', source: 'test', id, data: { runId: id, payload: {} } }));
  return new PackUnpacking(finished, handOffs).jobsToRun(msg, events).then((run) => ({ run: run.map((e) => e.id), handed }));
}

describe('PackUnpacking', () => {
  it('a redelivered pack runs nothing: finished jobs dropped, the rest handed off as the attempt after their last recorded one (one nothing recorded: attempt 2, its attempt 1 lost)', async () => {
    expect(await unpack(2)).toEqual({ run: [], handed: ['retrying:3:-:true:false', 'lost:2:-:true:false', 'fresh:2:-:true:true'] });
  });

  it('a first delivery older than the ack wait runs only the jobs nothing has recorded', async () => {
    expect(await unpack(1)).toEqual({ run: ['fresh'], handed: ['retrying:3:-:true:false', 'lost:2:-:true:false'] });
  });
});
