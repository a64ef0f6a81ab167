import { describe, expect, it } from '@jest/globals';
import type { AttemptOutcome, AttemptRecord } from './attempt-record.js';
import { durationBucket } from './duration-histogram.js';
import { rollup, statsParams } from './rollup.js';

function record(at: string, outcome: AttemptOutcome, durationMs: number, companyId: string | null, job = 'report.send', queue = 'normal'): AttemptRecord {
  const finishedAt = new Date(at);
  return {
    runId: `${companyId}-${at}-${outcome}`, attempt: 1, job, queue, companyId, outcome, scheduledFor: null, enqueuedAt: finishedAt,
    startedAt: new Date(finishedAt.getTime() - durationMs), finishedAt, durationMs, error: null, errorStack: null, result: null, payload: null,
    scheduleId: null, parentRunId: null, worker: 'w', streamSeq: 1, planned: false, maxAttempts: 5,
  };
}

describe('rollup (job_stats_minute rows of one history batch)', () => {
  it('counts each (minute, job, queue, tenant) once per outcome, tenants interleaved as a busy batch has them', () => {
    const rows = rollup([
      record('2026-12-04T10:00:05Z', 'succeeded', 12, 'b'),
      record('2026-12-04T10:00:06Z', 'succeeded', 30, 'a'),
      record('2026-12-04T10:00:07Z', 'retrying', 7, 'b'),
      record('2026-12-04T10:00:59Z', 'lost', 0, 'a'),
      record('2026-12-04T10:01:00Z', 'dead', 5, 'a'),
      record('2026-12-04T10:00:08Z', 'failed', 3, 'a'),
      record('2026-12-04T10:00:09Z', 'cancelled', 1, null),
    ]);
    const brief = rows.map((r) => [r.minute, r.company_id, r.succeeded, r.failed, r.retried, r.dead, r.cancelled, r.duration_ms_sum]).sort((x, y) => `${x[0]}${x[1]}`.localeCompare(`${y[0]}${y[1]}`));
    expect(brief).toEqual([
      ['2026-12-04T10:00:00.000Z', '', 0, 0, 0, 0, 1, 1],
      ['2026-12-04T10:00:00.000Z', 'a', 1, 1, 1, 0, 0, 33],
      ['2026-12-04T10:00:00.000Z', 'b', 1, 0, 1, 0, 0, 19],
      ['2026-12-04T10:01:00.000Z', 'a', 0, 0, 0, 1, 0, 5],
    ]);
    const a = rows.find((r) => r.company_id === 'a' && r.minute.startsWith('2026-12-04T10:00'))!;
    expect(a.duration_hist.reduce((s, n) => s + n, 0)).toBe(2);
    expect(a.duration_hist[durationBucket(30)]).toBeGreaterThanOrEqual(1);
  });

  it('writes one row per (minute, job, queue, tenant) however the batch interleaves them', () => {
    const batch = [
      record('2026-12-04T10:00:01Z', 'succeeded', 1, 't2', 'b.job', 'high'),
      record('2026-12-04T10:00:02Z', 'succeeded', 1, 't1', 'b.job', 'high'),
      record('2026-12-04T10:00:03Z', 'succeeded', 1, 't1', 'a.job', 'low'),
      record('2026-12-04T10:00:04Z', 'succeeded', 1, 't2', 'b.job', 'high'),
      record('2026-12-04T10:00:05Z', 'succeeded', 1, 't1', 'b.job', 'high'),
    ];
    const keys = (rs: ReturnType<typeof rollup>) => rs.map((r) => `${r.job}/${r.queue}/${r.company_id}:${r.succeeded}`).sort();
    expect(keys(rollup(batch))).toEqual(['a.job/low/t1:1', 'b.job/high/t1:2', 'b.job/high/t2:2']);
    expect(keys(rollup([...batch].reverse()))).toEqual(keys(rollup(batch)));
  });
});

describe('statsParams (the rollup as one Postgres array literal per column)', () => {
  it('quotes text elements, escaping backslash and double quote, and leaves numbers bare', () => {
    const rows = rollup([record('2026-12-04T10:00:05Z', 'succeeded', 3, 'co "x", {y} \\ z')]);
    const params = statsParams(rows);
    expect(params).toHaveLength(11);
    expect(params[0]).toBe('{"2026-12-04T10:00:00.000Z"}');
    expect(params[3]).toBe('{"co \\"x\\", {y} \\\\ z"}');
    expect(params[4]).toBe('{1}');
    expect(params[10]).toBe(`{"{0,0,1${',0'.repeat(19)}}"}`);
  });
});
