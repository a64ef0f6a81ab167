import { Injectable } from '@nestjs/common';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { EventPublisher } from '../../messaging/event-publisher.js';
import { handOffMessageId } from '../../messaging/job-pack.js';
import type { JobMessage } from '../job.types.js';

/** How a job leaves its pack: when it may run, and what a redelivered pack knew of it. */
export interface HandOffOptions {
  /** When it may run (a retry's backoff, a deferral's delay). */
  notBefore?: Date;
  /** A redelivered pack handed it off: it runs only if history has not moved past it (a copy may exist). */
  rehanded?: boolean;
  /**
   * Its attempt `attempt - 1` was in the pack when the pack's worker died or stalled and nothing recorded it:
   * it is recorded lost when this copy runs. Published under the id of that attempt's hand-off, so a deferral's
   * or snooze's hand-off made before the crash (which carries the job on) stores first and this copy is dropped.
   */
  lostInPack?: boolean;
}

/**
 * Publishes a job out of a pack as its own message: the same envelope, its
 * data saying the attempts it has used (`attemptOffset`) and when it may run
 * (`notBefore`), under the Nats-Msg-Id `<run id>:h<attempt>` so handing the
 * same attempt off twice (a pack redelivered after a crash) stores it once.
 * From there it is an ordinary job message: retries, deferrals and lost
 * deliveries are counted as for any other.
 */
@Injectable()
export class PackHandOff {
  constructor(private readonly publisher: EventPublisher) {}

  /** Resolves once the stream stored it; `attempt` is the attempt it will run as. */
  async handOff(subject: string, event: CloudEvent, attempt: number, options: HandOffOptions = {}): Promise<void> {
    const data: JobMessage = { ...(event.data as JobMessage) };
    if (attempt > 1) data.attemptOffset = attempt - 1;
    if (options.notBefore) data.notBefore = options.notBefore.toISOString();
    if (options.rehanded) data.rehanded = true;
    if (options.lostInPack) data.lostInPack = true;
    await this.publisher.publishEnvelope(subject, { ...event, data }, {}, handOffMessageId(event.id, options.lostInPack ? attempt - 1 : attempt));
  }
}
