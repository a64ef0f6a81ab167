import type { JsMsg } from '@nats-io/jetstream';
import { encodeCloudEvent, type CloudEvent } from '../../messaging/cloud-event.js';
import type { PackHandOff } from './pack-hand-off.js';

/** A pack asks JetStream for more time at most this often, however many of its jobs are held. */
const WORKING_EVERY_MS = 1_000;

/**
 * One pack message on its first delivery, while its jobs run: acked once every
 * job in it has settled for good (finished, dead-lettered, or handed off alone
 * and stored); nak'd instead if any job could not be settled (its history or
 * its hand-off failed), so the pack comes back and is unpacked from history.
 */
export class JobPack {
  private open: number;
  private failedDelayMs = -1;
  private lastWorking = 0;
  private shared?: JsMsg['info'];

  constructor(
    readonly msg: JsMsg,
    size: number,
  ) {
    this.open = size;
  }

  /** What each of its jobs reports as its message's info: the pack's, as a first delivery (one copy for all of them). */
  get memberInfo(): JsMsg['info'] {
    return (this.shared ??= { ...this.msg.info, deliveryCount: 1, redelivered: false } as JsMsg['info']);
  }

  settled(failedDelayMs?: number): void {
    if (failedDelayMs !== undefined) this.failedDelayMs = Math.max(this.failedDelayMs, failedDelayMs);
    if (--this.open > 0) return;
    try {
      if (this.failedDelayMs >= 0) this.msg.nak(this.failedDelayMs);
      else this.msg.ack();
    } catch {
      // the connection is gone: the ack wait brings the pack back, and its unpacking skips what history has
    }
  }

  working(): void {
    const now = Date.now();
    if (now - this.lastWorking < WORKING_EVERY_MS) return;
    this.lastWorking = now;
    try {
      this.msg.working();
    } catch {
      // the connection is gone
    }
  }
}

/**
 * One job of a pack, standing in for a job message in the runtime (Delivery.msg):
 * ack and term settle it in the pack; a job that must come back later (a
 * retry, a snooze, any deferral) is handed off alone with `handOff`, never
 * nak'd with the pack; `nak` marks the pack for redelivery. It always runs as
 * attempt 1: a job that ran before goes through a hand-off, not a pack.
 */
export class PackMember {
  readonly info: JsMsg['info'];
  readonly subject: string;
  readonly headers = undefined;
  readonly attempt = 1;
  /** The runtime's busy key: the pack's stream sequence and this job's place in it. */
  readonly key: string;
  private done = false;

  constructor(
    private readonly pack: JobPack,
    readonly event: CloudEvent,
    index: number,
    private readonly handOffs: PackHandOff,
  ) {
    const info = pack.memberInfo;
    this.info = info;
    this.subject = pack.msg.subject;
    this.key = `${info.stream}.${info.streamSequence}.${index}`;
  }

  /** This job's own envelope (what a dead letter keeps and a retry from the dead-letter queue publishes). */
  get data(): Uint8Array {
    return encodeCloudEvent(this.event);
  }

  get time(): Date {
    return this.pack.msg.time;
  }

  ack(): void {
    this.settle();
  }

  term(): void {
    this.settle();
  }

  /** The job could not be settled here (its history write failed): the pack comes back after `delayMs`. */
  nak(delayMs = 0): void {
    this.settle(delayMs);
  }

  working(): void {
    this.pack.working();
  }

  /**
   * Publishes this job alone, as attempt `attemptsUsed + 1`, not before `delayMs` from now; settled in the pack
   * once the stream stored it. Resolves either way: a failed hand-off leaves the pack to come back.
   */
  async handOff(delayMs: number, attemptsUsed: number): Promise<void> {
    if (this.done) return;
    try {
      await this.handOffs.handOff(this.subject, this.event, attemptsUsed + 1, { notBefore: delayMs > 0 ? new Date(Date.now() + delayMs) : undefined });
      this.settle();
    } catch {
      this.settle(5_000);
    }
  }

  private settle(failedDelayMs?: number): void {
    if (this.done) return;
    this.done = true;
    this.pack.settled(failedDelayMs);
  }
}

/** The pack member behind a delivery's message, if it is one. */
export function packMemberOf(msg: JsMsg): PackMember | undefined {
  return msg instanceof PackMember ? msg : undefined;
}

export function asJsMsg(member: PackMember): JsMsg {
  return member as unknown as JsMsg;
}
