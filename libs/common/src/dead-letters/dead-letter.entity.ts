import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A message that cannot succeed, with everything needed to inspect and retry it. */
@Entity({ name: 'dead_letters' })
@Index('dead_letters_company_created', ['companyId', 'createdAt'])
@Index('dead_letters_consumer_created', ['consumer', 'createdAt'])
export class DeadLetterEntity {
  /** The original message id: one dead letter per message. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  stream: string;

  @Column({ type: 'text' })
  consumer: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text', name: 'message_type', nullable: true })
  messageType: string | null;

  @Column({ type: 'text', name: 'company_id', nullable: true })
  companyId: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers: Record<string, string[]>;

  /** The raw body as text (it may not be JSON). */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'text' })
  reason: string;

  @Column({ type: 'text' })
  error: string;

  @Column({ type: 'int' })
  attempts: number;

  @Column({ type: 'timestamptz', name: 'first_failed_at' })
  firstFailedAt: Date;

  @Column({ type: 'timestamptz', name: 'last_failed_at' })
  lastFailedAt: Date;

  @Column({ type: 'text', name: 'run_id', nullable: true })
  runId: string | null;

  @Column({ type: 'timestamptz', name: 'retried_at', nullable: true })
  retriedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
