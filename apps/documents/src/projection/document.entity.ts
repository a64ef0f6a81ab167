import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The projection of one tenant document, built from document.upserted / document.deleted. */
@Entity({ name: 'documents' })
@Index('documents_company_expires', ['companyId', 'expiresAt', 'id'], { where: 'NOT deleted AND expires_at IS NOT NULL' })
export class DocumentEntity {
  @PrimaryColumn({ type: 'text', name: 'company_id' })
  companyId: string;

  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text', nullable: true })
  type: string | null;

  @Column({ type: 'text', nullable: true })
  title: string | null;

  @Column({ type: 'text', nullable: true })
  owner: string | null;

  @Column({ type: 'text', name: 'responsible_role', nullable: true })
  responsibleRole: string | null;

  @Column({ type: 'timestamptz', name: 'expires_at', nullable: true })
  expiresAt: Date | null;

  /** Ordering key of the last event applied: version, else occurredAt in epoch ms. */
  @Column({ type: 'bigint' })
  version: string;

  /** A tombstone keeps its version so an older upsert cannot resurrect the document. */
  @Column({ type: 'boolean', default: false })
  deleted: boolean;

  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
