import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One alert per (document, expiry, threshold): the unique key that makes a rerun change nothing. */
@Entity({ name: 'document_alerts' })
@Index('document_alerts_unpublished', ['companyId', 'eventId'], { where: 'published_at IS NULL' })
@Index('document_alerts_open', ['companyId', 'alertedAt'], { where: 'acknowledged_at IS NULL' })
export class DocumentAlertEntity {
  @PrimaryColumn({ type: 'text', name: 'company_id' })
  companyId: string;

  @PrimaryColumn({ type: 'text', name: 'document_id' })
  documentId: string;

  @PrimaryColumn({ type: 'timestamptz', name: 'expires_at' })
  expiresAt: Date;

  /** Days before expiry; 0 is the expiry itself. */
  @PrimaryColumn({ type: 'int' })
  threshold: number;

  @Column({ type: 'text' })
  kind: 'expiring' | 'expired';

  @Column({ type: 'text', name: 'event_id', unique: true })
  eventId: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ type: 'timestamptz', name: 'alerted_at' })
  alertedAt: Date;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'acknowledged_at', nullable: true })
  acknowledgedAt: Date | null;

  @Column({ type: 'text', name: 'acknowledged_by', nullable: true })
  acknowledgedBy: string | null;

  @Column({ type: 'int', name: 'escalation_level', default: 0 })
  escalationLevel: number;
}

/** One escalation per alert and level. */
@Entity({ name: 'document_escalations' })
@Index('document_escalations_unpublished', ['companyId', 'eventId'], { where: 'published_at IS NULL' })
export class DocumentEscalationEntity {
  @PrimaryColumn({ type: 'text', name: 'company_id' })
  companyId: string;

  @PrimaryColumn({ type: 'text', name: 'document_id' })
  documentId: string;

  @PrimaryColumn({ type: 'timestamptz', name: 'expires_at' })
  expiresAt: Date;

  @PrimaryColumn({ type: 'int' })
  threshold: number;

  @PrimaryColumn({ type: 'int' })
  level: number;

  @Column({ type: 'text' })
  role: string;

  @Column({ type: 'text', name: 'event_id', unique: true })
  eventId: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt: Date;

  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt: Date | null;
}

/** One row per scan run of one tenant. */
@Entity({ name: 'document_scans' })
@Index('document_scans_company', ['companyId', 'startedAt'])
export class DocumentScanEntity {
  @PrimaryColumn({ type: 'text', name: 'run_id' })
  runId: string;

  @Column({ type: 'text', name: 'company_id' })
  companyId: string;

  @Column({ type: 'timestamptz', name: 'as_of' })
  asOf: Date;

  @Column({ type: 'timestamptz', name: 'started_at', default: () => 'now()' })
  startedAt: Date;

  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'int', name: 'documents_read', default: 0 })
  documentsRead: number;

  @Column({ type: 'int', default: 0 })
  expiring: number;

  @Column({ type: 'int', default: 0 })
  expired: number;

  @Column({ type: 'int', default: 0 })
  escalated: number;

  @Column({ type: 'int', default: 0 })
  republished: number;
}
