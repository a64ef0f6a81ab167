import { Injectable } from '@nestjs/common';
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import { HEADERS, NatsConnectionService, PendingJobs, STREAMS } from '../../../../libs/common/src/index.js';
import type { QueueSample } from './stats.types.js';

/**
 * JetStream's own view of every consumer of the JOBS stream: what is waiting
 * (num_pending), what is out for processing (num_ack_pending), both in jobs
 * (a pack message holds several: weighed by a sample of the consumer's
 * messages, pending-jobs.ts), and how long the oldest message not yet acked
 * has been due.
 */
@Injectable()
export class QueueStatsReader {
  constructor(private readonly nats: NatsConnectionService) {}

  async sample(now: Date): Promise<QueueSample[]> {
    if (!this.nats.isConnected()) return [];
    const jsm = await this.nats.jsm();
    const out: QueueSample[] = [];
    const jobs = new PendingJobs(jsm);
    for await (const c of jsm.consumers.list(STREAMS.JOBS)) {
      const { pending, ackPending } = await jobs.of(c);
      out.push({
        stream: c.stream_name,
        consumer: c.name,
        filterSubject: c.config.filter_subject ?? '',
        pending,
        ackPending,
        redelivered: c.num_redelivered,
        oldestPendingAgeMs: await this.oldestPendingAge(jsm, c, now),
      });
    }
    return out;
  }

  /**
   * Lag of the first message after the consumer's ack floor that matches its
   * filter (the oldest one not yet acked): how long it has been due
   * (Metronome-Scheduled-For, else its publish time). 0 when nothing waits or
   * it is not due yet; null when the message cannot be read.
   */
  private async oldestPendingAge(jsm: JetStreamManager, c: ConsumerInfo, now: Date): Promise<number | null> {
    if (c.num_pending + c.num_ack_pending === 0) return 0;
    try {
      // next_by_subj on STREAM.MSG.GET is served by nats-server 2.9; the client's type only lists seq and last_by_subj.
      const query = { seq: c.ack_floor.stream_seq + 1, next_by_subj: c.config.filter_subject || '>' } as unknown as { seq: number };
      const m = await jsm.streams.getMessage(c.stream_name, query);
      if (!m) return null;
      // Late since it was due (a delayed job waiting for its time is not late); without a due time, since it was published.
      const due = Date.parse(m.header?.get(HEADERS.scheduledFor) ?? '');
      return Math.max(0, now.getTime() - (Number.isFinite(due) ? due : m.time.getTime()));
    } catch {
      return null;
    }
  }
}
