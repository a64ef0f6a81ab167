import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Batcher } from '../util/batcher.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { subjects } from '../messaging/subjects.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { DeadJobPublisher } from './dead-job.publisher.js';
import { DeadLetterRepository, type DeadLetterRecord } from './dead-letter.repository.js';

/**
 * Stores a dead letter in Postgres (the truth, batched), copies it to the DLQ
 * stream for subscribers and depth metrics, and publishes job.dead so people
 * are told (DeadJobPublisher). The caller terminates the message only after
 * this resolves, so a failed write leaves the message to be retried.
 */
@Injectable()
export class DeadLetterWriter implements OnApplicationShutdown {
  private readonly batcher: Batcher<DeadLetterRecord>;

  constructor(
    private readonly repository: DeadLetterRepository,
    private readonly nats: NatsConnectionService,
    private readonly metrics: MetronomeMetrics,
    private readonly deadJobs: DeadJobPublisher,
  ) {
    this.batcher = new Batcher((items) => this.repository.insertMany(items), { maxItems: 200, maxDelayMs: 5 });
  }

  async write(record: DeadLetterRecord): Promise<void> {
    await this.batcher.add(record);
    this.metrics.dlqMessages.inc({ consumer: record.consumer, reason: record.reason });
    await Promise.all([this.copyToStream(record), this.deadJobs.publish(record)]);
  }

  private async copyToStream(record: DeadLetterRecord): Promise<void> {
    try {
      const js = await this.nats.js();
      await js.publish(subjects.dlq(record.stream, record.consumer), JSON.stringify(record), { msgID: `dlq-${record.id}` });
    } catch {
      // Postgres already holds the record; the stream copy is a convenience.
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.batcher.flush();
  }
}
