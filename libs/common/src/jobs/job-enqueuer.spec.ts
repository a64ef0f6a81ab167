import { ManualClock } from './clock.js';
import { occurrenceRunId, planRun } from './job-enqueuer.js';

describe('occurrenceRunId', () => {
  it('is the same for the same schedule, occurrence and tenant, and UUID-shaped', () => {
    const a = occurrenceRunId('s1', new Date('2026-01-01T00:00:00Z'), 'acme');
    expect(a).toBe(occurrenceRunId('s1', '2026-01-01T00:00:00.000Z', 'acme'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(occurrenceRunId('s1', new Date('2026-01-01T00:00:00Z'), 'globex'));
    expect(a).not.toBe(occurrenceRunId('s1', new Date('2026-01-01T00:00:01Z'), 'acme'));
    expect(occurrenceRunId('s1', new Date(0), null)).toBe(occurrenceRunId('s1', new Date(0), undefined));
  });
});

describe('planRun', () => {
  it('builds the job_runs row and a CloudEvent whose id is the run id and data a JobMessage', () => {
    const now = new ManualClock('2026-06-01T10:00:00Z').now();
    const run = planRun({
      source: 'metronome/test',
      job: 'documents.tick',
      payload: { a: 1 },
      now,
      runId: 'run-1',
      companyId: 'acme',
      scheduleId: 'sched-1',
      scheduledFor: now,
      options: { priority: 'high', maxAttempts: 7, timeoutMs: 1_000 },
    });
    expect(run.subject).toBe('jobs.high.documents.tick');
    expect(run.queue).toBe('high');
    expect(run.maxAttempts).toBe(7);
    expect(run.options).toEqual({ timeoutMs: 1_000 });
    expect(run.body).toMatchObject({
      id: 'run-1',
      type: 'documents.tick',
      companyid: 'acme',
      data: { runId: 'run-1', companyId: 'acme', scheduleId: 'sched-1', payload: { a: 1 }, scheduledFor: '2026-06-01T10:00:00.000Z' },
    });
    expect(run.headers['Metronome-Scheduled-For']).toBe('2026-06-01T10:00:00.000Z');
  });

  it('refuses an unknown priority', () => {
    expect(() => planRun({ source: 's', job: 'x.y', payload: {}, now: new Date(), options: { priority: 'urgent' as never } })).toThrow(/priority/);
  });
});
