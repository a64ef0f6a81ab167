import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export const DELIVERY_OUTCOMES = ['sent', 'retry', 'failed', 'deferred', 'skipped'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface DeliveryAttempt {
  companyId: string;
  notificationId: string | null;
  runId: string | null;
  channel: 'email' | 'webhook' | 'push';
  target: string | null;
  attempt: number;
  outcome: DeliveryOutcome;
  error?: string | null;
  statusCode?: number | null;
}

/** notification_deliveries: one row per attempt. */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  async record(a: DeliveryAttempt): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO notification_deliveries (company_id, notification_id, run_id, channel, target, attempt, outcome, error, status_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [a.companyId, a.notificationId, a.runId, a.channel, a.target, a.attempt, a.outcome, a.error?.slice(0, 2000) ?? null, a.statusCode ?? null],
    );
  }

  /** Whether this run already sent (a lost ack redelivered after the send). */
  async alreadySent(companyId: string, runId: string, target: string | null = null): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM notification_deliveries WHERE company_id = $1 AND run_id = $2 AND outcome = 'sent' AND ($3::text IS NULL OR target = $3) LIMIT 1`,
      [companyId, runId, target],
    );
    return rows.length > 0;
  }
}
