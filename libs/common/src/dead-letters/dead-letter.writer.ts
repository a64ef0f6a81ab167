import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Batcher } from '../util/batcher.js';
import { NatsConnectionService } from '../messaging/nats-connection.service.js';
import { subjects } from '../messaging/subjects.js';
import { MetronomeMetrics } from '../metrics/metrics.registry.js';
import { postgresText } from '../util/postgres-text.js';
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

  async write(message: DeadLetterRecord): Promise<void> {
    const record = storable(message);
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

/**
 * The record with the text it took from its message (ids, subject, headers, body, an error quoting them) made
 * storable: NUL replaced (postgresText). A bad message must reach the DLQ whatever bytes it holds; left in, a NUL
 * failed the insert, and with it every dead letter batched beside it, on each redelivery.
 */
function storable(r: DeadLetterRecord): DeadLetterRecord {
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[postgresText(k)] = v.map(postgresText);
  const text = (s: string | null) => (s === null ? null : postgresText(s));
  return {
    ...r,
    id: postgresText(r.id),
    subject: postgresText(r.subject),
    messageType: text(r.messageType),
    companyId: text(r.companyId),
    headers,
    payload: postgresText(r.payload),
    error: postgresText(r.error),
    runId: text(r.runId),
  };
}
