import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per tick job the documents service processed: the walking skeleton's effect. */
@Entity({ name: 'tick_records' })
export class TickRecordEntity {
  /** The message (run) id: a redelivery finds the row and changes nothing. */
  @PrimaryColumn({ type: 'text', name: 'message_id' })
  messageId: string;

  @Column({ type: 'timestamptz', name: 'scheduled_for' })
  scheduledFor: Date;

  @Column({ type: 'int' })
  deliveries: number;

  @Column({ type: 'text', name: 'processed_by' })
  processedBy: string;

  @Column({ type: 'timestamptz', name: 'processed_at', default: () => 'now()' })
  processedAt: Date;
}
