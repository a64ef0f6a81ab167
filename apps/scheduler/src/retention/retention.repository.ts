import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { drain, RETENTION_BATCH } from './drain.js';

/**
 * Deletes old rows of the platform's record in bounded batches, so no
 * statement holds locks for long: in-app notifications and their delivery
 * attempts, dead letters (the audit log goes through AuditLog.purge()). Dead letters of a job with its own
 * `retention.deadLettersMs` are left to the per-job purger.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  notifications(before: Date, signal?: AbortSignal): Promise<number> {
    return drain(() => this.delete(`DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, before), signal);
  }

  deliveries(before: Date, signal?: AbortSignal): Promise<number> {
    return drain(
      () => this.delete(`DELETE FROM notification_deliveries WHERE id IN (SELECT id FROM notification_deliveries WHERE attempted_at < $1 ORDER BY attempted_at LIMIT $2)`, before),
      signal,
    );
  }

  deadLetters(before: Date, signal?: AbortSignal): Promise<number> {
    return drain(
      () =>
        this.delete(
          `DELETE FROM dead_letters WHERE id IN (
             SELECT id FROM dead_letters d WHERE created_at < $1
               AND NOT EXISTS (SELECT 1 FROM job_retention p WHERE p.job = d.message_type AND p.dead_letters_ms IS NOT NULL)
             ORDER BY created_at LIMIT $2
           )`,
          before,
        ),
      signal,
    );
  }

  private async delete(sql: string, before: Date): Promise<number> {
    const res: [unknown[], number] = await this.dataSource.query(sql, [before, RETENTION_BATCH]);
    return res[1];
  }
}
