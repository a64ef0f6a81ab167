import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's expiry settings; a tenant without a row uses the defaults. Its timezone is the registry's (document_tenants). */
@Entity({ name: 'document_settings' })
export class DocumentSettingsEntity {
  @PrimaryColumn({ type: 'text', name: 'company_id' })
  companyId: string;

  @Column({ type: 'int', name: 'scan_hour', default: 8 })
  scanHour: number;

  @Column({ type: 'int', array: true, default: () => "'{30,14,7,1}'" })
  thresholds: number[];

  @Column({ type: 'jsonb', name: 'type_overrides', default: () => "'{}'" })
  typeOverrides: Record<string, number[]>;

  @Column({ type: 'text', array: true, name: 'escalation_chain', default: () => "'{}'" })
  escalationChain: string[];

  @Column({ type: 'int', name: 'escalation_after_days', default: 3 })
  escalationAfterDays: number;

  /** Bumped by every save; announced to the scheduler as document.settings_changed (scan hour). */
  @Column({ type: 'bigint', default: 1 })
  version: string;

  @Column({ type: 'bigint', name: 'announced_version', default: 1 })
  announcedVersion: string;

  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
