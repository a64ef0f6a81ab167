import type { DeadLetterRecord } from './dead-letter.repository.js';
import { deadJobEvent, deadJobEventId } from './dead-job.publisher.js';

const record = (over: Partial<DeadLetterRecord> = {}): DeadLetterRecord => ({
  id: 'run-1',
  stream: 'JOBS',
  consumer: 'documents-jobs-normal',
  subject: 'jobs.normal.documents.expiry-scan',
  messageType: 'documents.expiry-scan',
  companyId: 'acme',
  headers: {},
  payload: '{}',
  reason: 'attempts_exhausted',
  error: 'boom',
  attempts: 5,
  firstFailedAt: new Date('2026-01-01T00:00:00Z'),
  lastFailedAt: new Date('2026-01-01T00:05:00Z'),
  runId: 'run-1',
  ...over,
});

describe('job.dead of a dead letter', () => {
  it('goes to the run\'s tenant with what an admin needs to find it', () => {
    expect(deadJobEvent(record())).toEqual({
      scope: 'acme',
      event: {
        runId: 'run-1', job: 'documents.expiry-scan', error: 'boom', kind: 'job', consumer: 'documents-jobs-normal',
        reason: 'attempts_exhausted', attempts: 5, deadLetterId: 'run-1', failedAt: '2026-01-01T00:05:00.000Z',
      },
    });
  });

  it('goes to the platform for a run without a tenant, an unreadable message or a tenant that cannot be trusted', () => {
    expect(deadJobEvent(record({ companyId: null })).scope).toBe('_platform');
    expect(deadJobEvent(record({ companyId: 'acme', reason: 'tenant_mismatch' })).scope).toBe('_platform');
    expect(deadJobEvent(record({ companyId: null, messageType: null, reason: 'malformed', stream: 'EVENTS' })).event).toMatchObject({ job: 'unknown', kind: 'event' });
    expect(deadJobEvent(record({ companyId: 'a.b' })).scope).toBe('_platform');
    expect(deadJobEvent(record({ companyId: '_platform' })).scope).toBe('_platform');
  });

  it('has one id per dead-lettering by a consumer, and one per unreadable message', () => {
    expect(deadJobEventId(record())).toBe('dead-run-1-documents-jobs-normal-5');
    expect(deadJobEventId(record({ attempts: 6 }))).not.toBe(deadJobEventId(record()));
    expect(deadJobEventId(record({ reason: 'malformed', consumer: 'a' }))).toBe(deadJobEventId(record({ reason: 'malformed', consumer: 'b' })));
  });
});
