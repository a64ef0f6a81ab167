import { Injectable } from '@nestjs/common';
import type { CloudEvent } from '../../messaging/cloud-event.js';
import { EventPublisher } from '../../messaging/event-publisher.js';
import { handOffMessageId } from '../../messaging/job-pack.js';
import type { JobMessage } from '../job.types.js';

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
  async handOff(subject: string, event: CloudEvent, attempt: number, notBefore: Date | undefined, rehanded: boolean): Promise<void> {
    const data: JobMessage = { ...(event.data as JobMessage) };
    if (attempt > 1) data.attemptOffset = attempt - 1;
    if (notBefore) data.notBefore = notBefore.toISOString();
    if (rehanded) data.rehanded = true;
    await this.publisher.publishEnvelope(subject, { ...event, data }, {}, handOffMessageId(event.id, attempt));
  }
}
