import { describe, expect, it } from '@jest/globals';
import type { NatsConnectionService } from '../messaging/nats-connection.service.js';
import type { MetronomeMetrics } from '../metrics/metrics.registry.js';
import type { DeadJobPublisher } from './dead-job.publisher.js';
import type { DeadLetterRecord, DeadLetterRepository } from './dead-letter.repository.js';
import { DeadLetterWriter } from './dead-letter.writer.js';

describe('DeadLetterWriter', () => {
  it('stores whatever a record took from its message, NULs replaced, whoever built it (the max-deliveries watcher builds its own)', async () => {
    const stored: DeadLetterRecord[] = [];
    const repository = { insertMany: async (rs: DeadLetterRecord[]) => void stored.push(...rs) } as unknown as DeadLetterRepository;
    const nats = { js: async () => ({ publish: async () => undefined }) } as unknown as NatsConnectionService;
    const metrics = { dlqMessages: { inc: () => undefined } } as unknown as MetronomeMetrics;
    const deadJobs = { publish: async () => undefined } as unknown as DeadJobPublisher;
    const writer = new DeadLetterWriter(repository, nats, metrics, deadJobs);
    const at = new Date('2026-12-06T10:00:00Z');
    await writer.write({
      id: 'r\u00001', stream: 'JOBS', consumer: 'c', subject: 'jobs.normal.x\u0000', messageType: 'x\u0000', companyId: null,
      headers: { 'K\u0000': ['v\u0000', 'w'] }, payload: '{\u0000}', reason: 'max_deliveries', error: 'e\u0000', attempts: 3,
      firstFailedAt: at, lastFailedAt: at, runId: 'r\u00001',
    });
    expect(stored).toEqual([{
      id: 'r\uFFFD1', stream: 'JOBS', consumer: 'c', subject: 'jobs.normal.x\uFFFD', messageType: 'x\uFFFD', companyId: null,
      headers: { 'K\uFFFD': ['v\uFFFD', 'w'] }, payload: '{\uFFFD}', reason: 'max_deliveries', error: 'e\uFFFD', attempts: 3,
      firstFailedAt: at, lastFailedAt: at, runId: 'r\uFFFD1',
    }]);
  });
});
