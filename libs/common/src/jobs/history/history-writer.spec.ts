import { describe, expect, it } from '@jest/globals';
import type { AttemptRecord } from './attempt-record.js';
import { HistoryWriter } from './history-writer.js';
import type { HistoryRepository } from './history.repository.js';
import type { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import type { Logger } from '../../logging/logger.js';

const at = new Date('2026-12-06T10:00:00.000Z');
const row = (runId: string): AttemptRecord => ({
  runId, attempt: 1, job: 'svc.work', queue: 'normal', companyId: 'acme', outcome: 'retrying', scheduledFor: null, enqueuedAt: at,
  startedAt: at, finishedAt: at, durationMs: 1, error: 'boom', errorStack: null, result: null, payload: null, scheduleId: null,
  parentRunId: null, worker: 'w-1', streamSeq: 1, planned: false, maxAttempts: 3,
});

describe('HistoryWriter', () => {
  it('retries a batch whose write failed under the same batch id, saying it is a retry, so a try that had committed is not stored twice', async () => {
    const calls: { rows: number; id: string; retried: boolean }[] = [];
    let ids = 0;
    const repository = {
      batchId: async () => String(++ids),
      write: async (records: readonly AttemptRecord[], id: string, retried = false) => {
        calls.push({ rows: records.length, id, retried });
        if (calls.length === 1) throw new Error('Connection terminated unexpectedly');
      },
    } as unknown as HistoryRepository;
    const counter = { inc: () => undefined, observe: () => undefined };
    const metrics = { historyBatch: counter, historyRows: counter, historyWriteErrors: counter } as unknown as MetronomeMetrics;
    const log = { error: () => undefined, warn: () => undefined, info: () => undefined } as unknown as Logger;
    const writer = new HistoryWriter(repository, metrics, log);

    // A retrying attempt's row goes at once, in a batch of its own.
    await writer.record(row('r-1'));
    expect(calls).toEqual([{ rows: 1, id: '1', retried: false }, { rows: 1, id: '1', retried: true }]);

    await writer.record(row('r-2'));
    expect(calls[2]).toEqual({ rows: 1, id: '2', retried: false });
  });
});
