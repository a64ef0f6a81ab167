import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

@Injectable()
export class TickRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Returns false when the tick was already recorded (a redelivery). */
  async record(messageId: string, scheduledFor: Date, deliveries: number, processedBy: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO tick_records (message_id, scheduled_for, deliveries, processed_by)
       VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING RETURNING message_id`,
      [messageId, scheduledFor, deliveries, processedBy],
    );
    return rows.length === 1;
  }
}
