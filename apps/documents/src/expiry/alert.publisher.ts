import { Injectable } from '@nestjs/common';
import { EventPublisher, errorText, type Priority } from '../../../../libs/common/src/index.js';

export interface OutgoingEvent {
  id: string;
  type: string;
  companyId: string;
  data: unknown;
  time?: Date;
}

export interface OutgoingJob {
  runId: string;
  job: string;
  companyId?: string;
  data: unknown;
  priority?: Priority;
}

export interface PublishOutcome {
  /** Ids JetStream acknowledged (stored or recognised as a duplicate). */
  stored: string[];
  failures: { id: string; error: string }[];
}

/**
 * Publishes many messages with a window of publishes in flight instead of one
 * awaited round trip after another; reports which ids were stored so only
 * those are marked published.
 */
@Injectable()
export class AlertPublisher {
  static readonly IN_FLIGHT = 256;

  constructor(private readonly publisher: EventPublisher) {}

  publishEvents(events: OutgoingEvent[]): Promise<PublishOutcome> {
    return this.run(events, (e) => e.id, (e) => this.publisher.publishEvent(e.type, e.companyId, e.data, { id: e.id, time: e.time }));
  }

  publishJobs(jobs: OutgoingJob[]): Promise<PublishOutcome> {
    return this.run(jobs, (j) => j.runId, (j) => this.publisher.publishJob(j.job, j.data, { runId: j.runId, companyId: j.companyId, priority: j.priority }));
  }

  private async run<T>(items: T[], idOf: (item: T) => string, send: (item: T) => Promise<unknown>): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { stored: [], failures: [] };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await send(item);
          outcome.stored.push(idOf(item));
        } catch (e) {
          outcome.failures.push({ id: idOf(item), error: errorText(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(AlertPublisher.IN_FLIGHT, items.length) }, worker));
    return outcome;
  }
}
