import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { FinishedRuns } from './finished-runs.js';
import { PackHandOff } from './pack-hand-off.js';

/**
 * A pack that may have been delivered before: redelivered (its worker died or
 * stalled, or a job in it could not be settled), or a first delivery older than
 * the ack wait (nats-server 2.9 can set a redelivery's count back to 1). History
 * is asked once for all its jobs: those finished are dropped, those with a
 * recorded attempt are handed off alone as the attempt after it (under the id a
 * hand-off before the crash used, so JetStream stores it once). A job of a
 * redelivered pack that nothing recorded was attempt 1 of the pack's first
 * delivery, cut short: it is handed off as attempt 2 with attempt 1 to record
 * as lost, as JetStream's count would have it for a message of its own. The
 * jobs of a first delivery nothing has recorded may run from the pack.
 */
@Injectable()
export class PackUnpacking {
  constructor(
    private readonly finished: FinishedRuns,
    private readonly handOffs: PackHandOff,
  ) {}

  /** Resolves with the jobs that may run from the pack, once every other one is dropped or handed off. */
  async jobsToRun(msg: JsMsg, events: CloudEvent[]): Promise<CloudEvent[]> {
    const redelivered = msg.info.deliveryCount > 1;
    const last = await Promise.all(events.map((e) => this.finished.last(e.id)));
    const run: CloudEvent[] = [];
    await Promise.all(events.map((event, i) => {
      const known = last[i];
      if (known?.final) return undefined;
      if (!known && !redelivered) return void run.push(event);
      if (!known) return this.handOffs.handOff(msg.subject, event, 2, { rehanded: true, lostInPack: true });
      return this.handOffs.handOff(msg.subject, event, known.attempt + 1, { rehanded: true });
    }));
    return run;
  }
}
