import type { AttemptRecord } from './attempt-record.js';
import { CopyText } from './copy-text.js';
import { COPY_ATTEMPTS, copyBatchStatement, copyRow } from './history-statements.js';

const at = new Date('2026-12-04T10:00:00.000Z');
const record = (overrides: Partial<AttemptRecord> = {}): AttemptRecord => ({
  runId: 'r-1', attempt: 2, job: 'svc.work', queue: 'normal', companyId: 'acme', outcome: 'retrying',
  scheduledFor: null, enqueuedAt: at, startedAt: at, finishedAt: at, durationMs: 4.6,
  error: 'boom', errorStack: '    at deliver (apps/x.ts:1:1)\n    at "q" \\ tab\there', result: null, payload: null,
  scheduleId: null, parentRunId: null, worker: 'w-1', streamSeq: 9, planned: false, maxAttempts: 3,
  ...overrides,
});

/** One record as COPY text, without its line end. */
function copyLine(r: AttemptRecord, batchId: string): string {
  const out = new CopyText();
  copyRow(out, r, batchId);
  const text = out.bytes().toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1);
}

describe('job_attempts rows as the history writer encodes them', () => {
  it('ends each row with error_stack, max_attempts and (COPY) the batch id, in COPY text', () => {
    expect(COPY_ATTEMPTS).toMatch(/, stream_seq, error_stack, max_attempts, batch_id\) FROM STDIN$/);
    const fields = copyLine(record(), '42').split('\t');
    expect(fields).toHaveLength(23);
    expect(fields.slice(-3)).toEqual(['    at deliver (apps/x.ts:1:1)\\n    at "q" \\\\ tab\\there', '3', '42']);
  });

  it('writes SQL NULL for a success (no stack)', () => {
    const ok = record({ outcome: 'succeeded', error: null, errorStack: null });
    expect(copyLine(ok, '42').split('\t').slice(-3)).toEqual(['\\N', '3', '42']);
  });

  it('puts a COPY batch in one simple query: COPY, marker, planned runs, each value through the quoting given', () => {
    const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
    const planned = [{ run_id: "r-'1", error: "$' and $& stay as written" }];
    const text = copyBatchStatement('42', ['2026-12-04T10:00:00.000Z', '2026-12-04T10:00:01.000Z', 7], planned, quote);
    const statements = text.split(';\n');
    expect(statements[0]).toBe(COPY_ATTEMPTS);
    expect(statements[1]).toBe(`INSERT INTO job_history_batches (id, first_finished, last_finished, attempts) VALUES (42, '2026-12-04T10:00:00.000Z', '2026-12-04T10:00:01.000Z', 7)`);
    expect(statements[2]).toContain(`jsonb_to_recordset(${quote(JSON.stringify(planned))}::jsonb)`);
    expect(copyBatchStatement('42', ['a', 'b', 1], [], quote).split(';\n')).toHaveLength(2);
    expect(() => copyBatchStatement('42; DROP TABLE job_runs', ['a', 'b', 1], [], quote)).toThrow(/batch id is a number/);
  });
});
