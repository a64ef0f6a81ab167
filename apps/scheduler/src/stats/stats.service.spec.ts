import { ManualClock } from '../../../../libs/common/src/jobs/clock.js';
import { DURATION_BUCKETS } from '../../../../libs/common/src/jobs/history/duration-histogram.js';
import type { JobStatsRepository } from './job-stats.repository.js';
import type { QueueStatsRepository } from './queue-stats.repository.js';
import { StatsService } from './stats.service.js';
import type { JobStatsBucket, JobStatsFilter, QueueStatsBucket } from './stats.types.js';

const hist = (bucket: number, n: number) => Object.assign(new Array<number>(DURATION_BUCKETS).fill(0), { [bucket]: n });

function service(now: string, jobRows: JobStatsBucket[], queueRows: QueueStatsBucket[] = []) {
  const calls: JobStatsFilter[] = [];
  const jobs = { buckets: async (f: JobStatsFilter) => (calls.push(f), jobRows), jobs: async () => [...new Set(jobRows.map(() => 'reports.build'))] } as unknown as JobStatsRepository;
  const queues = { buckets: async () => queueRows } as unknown as QueueStatsRepository;
  return { stats: new StatsService(jobs, queues, new ManualClock(now)), calls };
}

const row = (bucket: string, over: Partial<JobStatsBucket> = {}): JobStatsBucket => ({
  bucket: new Date(bucket), succeeded: 0, failed: 0, retried: 0, dead: 0, cancelled: 0, histogram: hist(0, 0), ...over,
});

describe('StatsService.timeseries', () => {
  it('1 h: 60 one-minute buckets ending with the minute in progress, gaps as zeros', async () => {
    const { stats, calls } = service('2026-12-04T10:30:20Z', [row('2026-12-04T10:30:00Z', { succeeded: 4, failed: 1, histogram: hist(7, 10) })]);
    const s = await stats.timeseries({ range: '1h', companyId: 'acme', withQueue: false });
    expect(calls).toEqual([{ from: new Date('2026-12-04T09:31:00Z'), to: new Date('2026-12-04T10:31:00Z'), bucketSeconds: 60, job: undefined, companyId: 'acme' }]);
    expect(s.t).toHaveLength(60);
    expect(s.t[0]).toBe(Date.parse('2026-12-04T09:31:00Z') / 1000);
    expect(s.t[59]).toBe(Date.parse('2026-12-04T10:30:00Z') / 1000);
    expect(s.runs.succeeded[59]).toBe(4);
    expect(s.runs.failed[59]).toBe(1);
    expect(s.runs.succeeded.slice(0, 59).every((v) => v === 0)).toBe(true);
    // Ten attempts in [64, 128) ms: the median interpolates to 96 ms, p95 to 124.8 ms.
    expect(s.durationMs.p50[59]).toBe(96);
    expect(s.durationMs.p95[59]).toBe(124.8);
    expect(s.durationMs.p50[0]).toBeNull();
    expect(s.totals).toEqual({ succeeded: 4, failed: 1, retried: 0, dead: 0, cancelled: 0 });
    expect(s.queue).toBeNull();
    expect(s.jobs).toEqual(['reports.build']);
  });

  it('24 h in 15-minute buckets and 7 d in hours, aligned to UTC', async () => {
    const day = await service('2026-12-04T10:31:00Z', []).stats.timeseries({ range: '24h', companyId: null, withQueue: false });
    expect([day.bucketSeconds, day.t.length, day.from.toISOString(), day.to.toISOString()]).toEqual([900, 96, '2026-12-03T10:45:00.000Z', '2026-12-04T10:45:00.000Z']);
    const week = await service('2026-12-04T10:31:00Z', []).stats.timeseries({ range: '7d', companyId: null, withQueue: false });
    expect([week.bucketSeconds, week.t.length, week.from.toISOString(), week.to.toISOString()]).toEqual([3600, 168, '2026-11-27T11:00:00.000Z', '2026-12-04T11:00:00.000Z']);
  });

  it('queue depth of a job sums the consumers that carry it; lag is the oldest; unsampled buckets are null', async () => {
    const q = (bucket: string, consumer: string, filterSubject: string, pending: number, age: number | null): QueueStatsBucket => ({
      bucket: new Date(bucket), consumer, filterSubject, pending, ackPending: 1, oldestPendingAgeMs: age,
    });
    const { stats } = service('2026-12-04T10:30:20Z', [], [
      q('2026-12-04T10:29:00Z', 'documents-jobs-normal', 'jobs.normal.documents.>', 5, 4_000),
      q('2026-12-04T10:29:00Z', 'documents-jobs-low', 'jobs.low.documents.>', 2, 9_000),
      q('2026-12-04T10:29:00Z', 'notifier-jobs', 'jobs.*.notifier.>', 7, 60_000),
    ]);
    const docs = await stats.timeseries({ range: '1h', job: 'documents.expiry-scan', companyId: null, withQueue: true });
    expect(docs.queue!.consumers).toEqual(['documents-jobs-low', 'documents-jobs-normal']);
    expect([docs.queue!.pending[58], docs.queue!.ackPending[58], docs.queue!.lagMs[58]]).toEqual([7, 2, 9_000]);
    expect(docs.queue!.pending[59]).toBeNull();
    const all = await stats.timeseries({ range: '1h', companyId: null, withQueue: true });
    expect([all.queue!.pending[58], all.queue!.lagMs[58]]).toEqual([14, 60_000]);
  });

  it('answers an empty series without reading for a caller asking about another tenant', async () => {
    const { stats, calls } = service('2026-12-04T10:30:20Z', [row('2026-12-04T10:30:00Z', { succeeded: 4 })]);
    const s = await stats.timeseries({ range: '1h', companyId: 'acme', withQueue: false, empty: true });
    expect(calls).toEqual([]);
    expect([s.totals.succeeded, s.jobs]).toEqual([0, []]);
  });
});
