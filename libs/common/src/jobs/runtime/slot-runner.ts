import type { Logger } from '../../logging/logger.js';
import { ClearingMap } from '../../util/clearing-map.js';
import { isThenable } from '../../util/is-thenable.js';
import type { JobDispatcher, Waiting } from '../job-dispatcher.js';
import type { AttemptRunner } from './attempt-runner.js';
import type { Delivery } from './delivery.js';
import type { Outcome } from './outcome.js';
import type { SettleListener } from './pending-settlement.js';
import type { Settlement } from './settlement.js';

/**
 * Runs due deliveries in the dispatcher's slots and settles them. A slot is
 * given back when its handler returns; at most `maxSettling` finished jobs
 * then wait for their history write at once.
 */
export class SlotRunner {
  /** Deliveries whose handler runs or whose outcome is being written, by stream sequence: the keep-alive renews their ack wait. */
  private readonly busy = new ClearingMap<string, Delivery>();
  /** Handlers that returned and gave their slot back, whose outcome write and ack are still pending. */
  private settlingNow = 0;

  constructor(
    private readonly dispatcher: JobDispatcher<Delivery>,
    private readonly runner: AttemptRunner,
    private readonly settlement: Settlement,
    private readonly log: Logger,
    private readonly maxSettling: number,
    /** Fills the slots again (the runtime's pump): called whenever a slot is given back. */
    private readonly pump: () => void,
  ) {}

  /** Finished jobs that gave their slot back and wait for their history write and ack. */
  get settling(): number {
    return this.settlingNow;
  }

  /** Deliveries running or settling here. */
  busyDeliveries(): IterableIterator<Delivery> {
    return this.busy.values();
  }

  /**
   * A second delivery of a message this process is already running or
   * settling: nats-server 2.9 can hand one message out twice at once after a
   * worker holding it died, or to a worker that was stalled (one copy with its
   * delivery count set back). The handler runs once, as the attempt it
   * started as (a stalled worker's late result then never outnumbers the
   * attempt that overtook it); the server tracks the message by stream
   * sequence, so its settlement ends both deliveries.
   */
  private duplicate(running: Delivery, d: Delivery): void {
    this.log.warn({ runId: d.event.id, job: d.spec.name, deliveryCount: d.msg.info.deliveryCount, running: running.msg.info.deliveryCount }, 'job message delivered again while it runs here: running it once');
  }

  /**
   * Runs a delivery in its slot and settles it. A handler that returns without a promise is settled in the same
   * turn (pump's loop then fills the slot again, no recursion); nothing holds an async frame while the outcome
   * waits for its history batch.
   */
  execute(w: Waiting<Delivery>): void {
    const d = w.item;
    const seq = d.key;
    const running = this.busy.get(seq);
    if (running) {
      this.duplicate(running, d);
      this.dispatcher.done(w);
      this.pump();
      return;
    }
    this.busy.set(seq, d);
    const startedAt = new Date();
    const t0 = performance.now();
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = this.runner.run(d);
    } catch (e) {
      // run() never throws; should it, the job is still released and settled (retried).
      outcome = { kind: 'retry', error: e };
    }
    if (isThenable<Outcome>(outcome)) {
      outcome.then(
        (o) => this.finished(w, o, startedAt, performance.now() - t0),
        (e: unknown) => this.finished(w, { kind: 'retry', error: e }, startedAt, performance.now() - t0),
      );
    } else {
      this.finished(w, outcome, startedAt, performance.now() - t0);
    }
  }

  /**
   * The slot is given back when the handler returns, not when its outcome is committed and acked, so
   * `concurrency` bounds running handlers; at most maxSettling finished jobs wait for their history write at
   * once (beyond that the slot is held until the ack, which throttles the pull, and the history batch is hurried:
   * a held slot waiting out the batching window idles the worker).
   */
  private finished(w: Waiting<Delivery>, outcome: Outcome, startedAt: Date, durationMs: number): void {
    const held = this.settlingNow >= this.maxSettling;
    if (!held) {
      this.settlingNow++;
      this.dispatcher.done(w);
      this.pump();
    }
    this.settlement.settleThen(w.item, outcome, startedAt, durationMs, held, new SlotRelease(this, w, held));
  }

  /** @internal SlotRelease's: the delivery is settled (or left to come back). */
  released(w: Waiting<Delivery>, held: boolean): void {
    this.busy.delete(w.item.key, w.item);
    if (held) this.dispatcher.done(w);
    else this.settlingNow--;
    this.pump();
  }
}

/** What a settling job keeps of its slot: one object, no closure or promise (see Settlement.settleThen). */
class SlotRelease implements SettleListener {
  constructor(
    private readonly slots: SlotRunner,
    private readonly w: Waiting<Delivery>,
    private readonly held: boolean,
  ) {}

  settled(): void {
    this.slots.released(this.w, this.held);
  }
}
