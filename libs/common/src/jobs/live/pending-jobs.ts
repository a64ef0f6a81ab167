import type { ConsumerInfo, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { PACK_HEADER } from '../../messaging/job-pack.js';

/** Messages read at most to weigh one range. */
export const PENDING_SAMPLE = 8;

/** The messages of one subject filter between two stream sequences (inclusive), and how many JetStream counts there. */
export interface MessageRange {
  subject: string;
  from: number;
  to: number;
  messages: number;
}

/** Jobs of a consumer not yet delivered, and delivered and not yet acknowledged. */
export interface ConsumerJobs {
  pending: number;
  ackPending: number;
}

/**
 * The jobs in a range of JOBS messages, where a job pack (job-pack.ts) is one
 * message holding several: `messages` × the mean jobs per message of at most
 * `sample` of them, read by sequence (next_by_subj) spread over the range. A
 * range of at most `sample` messages is read whole, so it is exact; when every
 * message read is a single job the answer is `messages` exactly. A message is
 * one job unless its Metronome-Pack header says n: no body is parsed. Reads go
 * through STREAM.MSG.GET, which every service's NATS user may use on JOBS
 * (direct get on JOBS is the scheduler's only). A failed read ends the sample:
 * with nothing read, the answer is `messages`.
 */
export async function jobsIn(jsm: JetStreamManager, stream: string, range: MessageRange, sample = PENDING_SAMPLE): Promise<number> {
  if (range.messages <= 0) return 0;
  const reads = Math.min(sample, range.messages);
  const spread = range.messages > sample;
  const span = range.to - range.from + 1;
  let next = range.from;
  let read = 0;
  let jobs = 0;
  for (let k = 0; k < reads && next <= range.to; k++) {
    // A start at or before the last message read would find that message again.
    const at = spread ? Math.max(next, range.from + Math.floor((k * span) / reads)) : next;
    if (at > range.to) break;
    let m: StoredMsg | null;
    try {
      m = await nextMessage(jsm, stream, range.subject, at);
    } catch {
      break;
    }
    if (!m || m.seq > range.to) break;
    read++;
    jobs += jobsOf(m);
    next = m.seq + 1;
  }
  return read === 0 ? range.messages : Math.round((range.messages * jobs) / read);
}

/**
 * Pending and ack-pending jobs of JOBS consumers for one scrape: each consumer's
 * undelivered messages (after its delivered sequence) and unacknowledged ones
 * (after its ack floor, up to its delivered sequence: acked ones are gone from
 * the work queue) weighed with `jobsIn`. The stream's last sequence, which
 * bounds the undelivered range, is read once per stream, and only when a
 * consumer has more undelivered messages than the sample.
 */
export class PendingJobs {
  private readonly lastSeqs = new Map<string, Promise<number | null>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly sample = PENDING_SAMPLE,
  ) {}

  async of(c: ConsumerInfo): Promise<ConsumerJobs> {
    const subject = c.config.filter_subject || '>';
    const delivered = c.delivered.stream_seq;
    let pending = 0;
    if (c.num_pending > 0) {
      // Read one after another, a short range needs no bound: every message of the subject after `delivered` is pending.
      const to = c.num_pending > this.sample ? await this.lastSeq(c.stream_name) : Number.MAX_SAFE_INTEGER;
      pending = to === null ? c.num_pending : await jobsIn(this.jsm, c.stream_name, { subject, from: delivered + 1, to, messages: c.num_pending }, this.sample);
    }
    const ackPending =
      c.num_ack_pending > 0
        ? await jobsIn(this.jsm, c.stream_name, { subject, from: c.ack_floor.stream_seq + 1, to: delivered, messages: c.num_ack_pending }, this.sample)
        : 0;
    return { pending, ackPending };
  }

  /** Null when the stream cannot be read: the consumer's messages are counted as they are. */
  private lastSeq(stream: string): Promise<number | null> {
    let seq = this.lastSeqs.get(stream);
    if (!seq) {
      seq = this.jsm.streams.info(stream).then((i) => i.state.last_seq, () => null);
      this.lastSeqs.set(stream, seq);
    }
    return seq;
  }
}

function nextMessage(jsm: JetStreamManager, stream: string, subject: string, seq: number): Promise<StoredMsg | null> {
  // next_by_subj on STREAM.MSG.GET is served by nats-server 2.9; the client's type only lists seq and last_by_subj.
  return jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as { seq: number });
}

function jobsOf(m: StoredMsg): number {
  const n = Number(m.header?.get(PACK_HEADER));
  return Number.isInteger(n) && n > 0 ? n : 1;
}
