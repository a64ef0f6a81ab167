import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DeadLetterRecord {
  id: string;
  stream: string;
  consumer: string;
  subject: string;
  messageType: string | null;
  companyId: string | null;
  headers: Record<string, string[]>;
  payload: string;
  reason: string;
  error: string;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
  runId: string | null;
}

@Injectable()
export class DeadLetterRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Idempotent: a message dead-lettered twice (after a crash) keeps one record, the latest failure wins. */
  async insertMany(records: DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return;
    const cols = 14;
    const values: unknown[] = [];
    const rows = records.map((r, i) => {
      values.push(
        r.id, r.stream, r.consumer, r.subject, r.messageType, r.companyId, JSON.stringify(r.headers),
        r.payload, r.reason, r.error, r.attempts, r.firstFailedAt, r.lastFailedAt, r.runId,
      );
      return `(${Array.from({ length: cols }, (_, k) => `$${i * cols + k + 1}`).join(',')})`;
    });
    await this.dataSource.query(
      `INSERT INTO dead_letters (id, stream, consumer, subject, message_type, company_id, headers, payload, reason, error,
         attempts, first_failed_at, last_failed_at, run_id)
       VALUES ${rows.join(',')}
       ON CONFLICT (id) DO UPDATE SET reason = EXCLUDED.reason, error = EXCLUDED.error, attempts = EXCLUDED.attempts,
         last_failed_at = EXCLUDED.last_failed_at, retried_at = NULL`,
      values,
    );
  }
}
