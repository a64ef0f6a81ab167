import { DocumentAlertEntity, DocumentEscalationEntity, DocumentScanEntity } from './expiry/expiry.entities.js';
import { DocumentEntity } from './projection/document.entity.js';
import { DocumentSettingsEntity } from './settings/document-settings.entity.js';
import { DocumentTenantEntity } from './settings/document-tenant.entity.js';
import { TickRecordEntity } from './tick/tick-record.entity.js';

export const DOCUMENTS_ENTITIES = [
  TickRecordEntity,
  DocumentEntity,
  DocumentSettingsEntity,
  DocumentTenantEntity,
  DocumentAlertEntity,
  DocumentEscalationEntity,
  DocumentScanEntity,
];
