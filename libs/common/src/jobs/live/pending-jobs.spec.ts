import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import { PACK_HEADER } from '../../messaging/job-pack.js';
import { subjectMatches } from '../../messaging/subjects.js';
import { jobsIn, PENDING_SAMPLE, PendingJobs } from './pending-jobs.js';

interface Stored {
  seq: number;
  subject: string;
  /** The Metronome-Pack header, if any. */
  pack?: string;
}

const LANE = 'jobs.low.reports.>';

/** A JOBS stream in memory answering STREAM.MSG.GET with next_by_subj and STREAM.INFO, counting both. */
function stream(messages: Stored[], fail: { get?: boolean; info?: boolean } = {}) {
  const reads: number[] = [];
  let infos = 0;
  const jsm = {
    streams: {
      getMessage: async (_stream: string, q: { seq: number; next_by_subj: string }) => {
        reads.push(q.seq);
        if (fail.get) throw new Error('nats hiccup');
        const m = messages.find((x) => x.seq >= q.seq && subjectMatches(q.next_by_subj, x.subject));
        return m ? { seq: m.seq, subject: m.subject, header: { get: (k: string) => (k === PACK_HEADER ? (m.pack ?? '') : '') } } : null;
      },
      info: async () => {
        infos++;
        if (fail.info) throw new Error('nats hiccup');
        return { state: { last_seq: Math.max(0, ...messages.map((m) => m.seq)) } };
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, reads, infos: () => infos };
}

function consumer(o: { pending: number; ackPending?: number; delivered?: number; ackFloor?: number; subject?: string }): ConsumerInfo {
  return {
    stream_name: 'JOBS',
    name: 'reports-jobs-low',
    config: { filter_subject: o.subject ?? LANE },
    delivered: { stream_seq: o.delivered ?? 0, consumer_seq: 0 },
    ack_floor: { stream_seq: o.ackFloor ?? o.delivered ?? 0, consumer_seq: 0 },
    num_pending: o.pending,
    num_ack_pending: o.ackPending ?? 0,
  } as unknown as ConsumerInfo;
}

/** `n` messages on `subject` from sequence `start`, every other sequence taken by another lane. */
function interleaved(n: number, subject: string, pack: (i: number) => number | undefined, start = 1): Stored[] {
  const out: Stored[] = [];
  for (let i = 0; i < n; i++) {
    const size = pack(i);
    out.push({ seq: start + 2 * i, subject, ...(size ? { pack: String(size) } : {}) });
    out.push({ seq: start + 2 * i + 1, subject: 'jobs.normal.other.job' });
  }
  return out;
}

describe('PendingJobs', () => {
  it('counts single job messages as they are: exactly num_pending, for at most the sample reads and one stream info', async () => {
    const s = stream(interleaved(1_000, 'jobs.low.reports.build', () => undefined));
    expect(await new PendingJobs(s.jsm).of(consumer({ pending: 1_000 }))).toEqual({ pending: 1_000, ackPending: 0 });
    expect(s.reads.length).toBeLessThanOrEqual(PENDING_SAMPLE);
    expect(s.infos()).toBe(1);
  });

  it('reads a lane of up to 8 messages whole, with no stream info: a pack of 5 and two single jobs are 7', async () => {
    const s = stream([
      { seq: 4, subject: 'jobs.low.reports.build' },
      { seq: 5, subject: 'jobs.normal.other.job' },
      { seq: 6, subject: 'jobs.low.reports.build', pack: '5' },
      { seq: 9, subject: 'jobs.low.reports.build' },
    ]);
    expect(await new PendingJobs(s.jsm).of(consumer({ pending: 3, delivered: 3 }))).toEqual({ pending: 7, ackPending: 0 });
    expect(s.reads).toEqual([4, 5, 7]);
    expect(s.infos()).toBe(0);
  });

  it('estimates a deep lane from a sample spread over it, not from its oldest messages', async () => {
    // 200 messages: packs of 10 in the older half, single jobs in the newer one (1,100 jobs).
    const s = stream(interleaved(200, 'jobs.low.reports.build', (i) => (i < 100 ? 10 : undefined)));
    expect(await new PendingJobs(s.jsm).of(consumer({ pending: 200 }))).toEqual({ pending: 1_100, ackPending: 0 });
    expect(s.reads).toHaveLength(PENDING_SAMPLE);
    expect(Math.max(...s.reads)).toBeGreaterThan(300);
  });

  it('weighs the unacknowledged messages between the ack floor and the delivered sequence the same way', async () => {
    const s = stream([
      { seq: 12, subject: 'jobs.low.reports.build', pack: '3' },
      { seq: 15, subject: 'jobs.low.reports.build' },
      { seq: 21, subject: 'jobs.low.reports.build', pack: '4' },
    ]);
    expect(await new PendingJobs(s.jsm).of(consumer({ pending: 1, ackPending: 2, ackFloor: 10, delivered: 20 }))).toEqual({ pending: 4, ackPending: 4 });
  });

  it('takes a Metronome-Pack header that is not a positive whole number as one job', async () => {
    const s = stream(['abc', '0', '-2', '2.5'].map((pack, i) => ({ seq: i + 1, subject: 'jobs.low.reports.build', pack })));
    expect((await new PendingJobs(s.jsm).of(consumer({ pending: 4 }))).pending).toBe(4);
  });

  it('reads nothing for an empty lane, and the stream once per scrape for several deep lanes', async () => {
    const s = stream([...interleaved(50, 'jobs.low.reports.build', () => undefined), ...interleaved(50, 'jobs.high.reports.build', () => 2, 1_000)]);
    const jobs = new PendingJobs(s.jsm);
    expect(await jobs.of(consumer({ pending: 0 }))).toEqual({ pending: 0, ackPending: 0 });
    expect(s.reads).toEqual([]);
    expect(await jobs.of(consumer({ pending: 50 }))).toEqual({ pending: 50, ackPending: 0 });
    expect(await jobs.of(consumer({ pending: 50, subject: 'jobs.high.reports.>' }))).toEqual({ pending: 100, ackPending: 0 });
    expect(s.infos()).toBe(1);
  });

  it('counts messages as they are when the stream cannot be read', async () => {
    const packs = interleaved(20, 'jobs.low.reports.build', () => 5);
    expect(await new PendingJobs(stream(packs, { get: true }).jsm).of(consumer({ pending: 20, ackPending: 3 }))).toEqual({ pending: 20, ackPending: 3 });
    expect(await new PendingJobs(stream(packs, { info: true }).jsm).of(consumer({ pending: 20 }))).toEqual({ pending: 20, ackPending: 0 });
  });
});

describe('jobsIn', () => {
  it('weighs one subject over a range of the stream and reads nothing past its end', async () => {
    const s = stream([
      { seq: 1, subject: 'jobs.low.reports.build', pack: '3' },
      { seq: 2, subject: 'jobs.low.reports.build' },
      { seq: 5, subject: 'jobs.low.reports.build', pack: '9' },
    ]);
    expect(await jobsIn(s.jsm, 'JOBS', { subject: 'jobs.low.reports.build', from: 1, to: 4, messages: 2 })).toBe(4);
    expect(await jobsIn(s.jsm, 'JOBS', { subject: 'jobs.low.reports.build', from: 1, to: 5, messages: 3 })).toBe(13);
  });
});
