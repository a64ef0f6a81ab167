import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's timezone as the tenant registry last announced it (tenant.upserted); queries live in TenantZoneRepository. */
@Entity({ name: 'document_tenants' })
export class DocumentTenantEntity {
  @PrimaryColumn({ type: 'text', name: 'company_id' })
  companyId: string;

  @Column({ type: 'text' })
  timezone: string;

  /** The registry's version; an older or repeated announcement changes nothing. */
  @Column({ type: 'bigint' })
  version: string;

  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
