import { IsISO8601, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';

/** A subject token: letters, digits, _ and - (companyId travels in subjects). */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Ordering of document events: `version` (a number that only grows per document)
 * when the producer has one, else `occurredAt`. At least one of them is required,
 * so the projection can drop an event older than what it already holds.
 */
abstract class OrderedDocumentEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  id: string;

  @IsString()
  @Matches(TOKEN)
  companyId: string;

  @ValidateIf((o: OrderedDocumentEvent) => o.occurredAt === undefined || o.version !== undefined)
  @IsInt()
  @Min(0)
  version?: number;

  @ValidateIf((o: OrderedDocumentEvent) => o.version === undefined || o.occurredAt !== undefined)
  @IsISO8601({ strict: true })
  occurredAt?: string;
}

/** `document.upserted`: a tenant's document was created or changed. */
export class DocumentUpsertedEvent extends OrderedDocumentEvent {
  @IsOptional()
  @IsString()
  @MaxLength(100)
  type?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string | null;

  /** The owning user id. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  owner?: string | null;

  /** The role that answers for the document (first recipient of its alerts). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  responsibleRole?: string | null;

  /** Null or absent: the document does not expire. */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string | null;
}

/** `document.deleted`: a tombstone; an older upsert arriving later does not bring it back. */
export class DocumentDeletedEvent extends OrderedDocumentEvent {}

/** `document.acknowledged`: someone saw the document's alerts; stops their escalation. */
export class DocumentAcknowledgedEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  id: string;

  @IsString()
  @Matches(TOKEN)
  companyId: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  acknowledgedBy?: string;

  /** Only alerts of this expiry; absent: the document's current expiry. */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  /** Alerts raised after this instant are not acknowledged by it; absent: the time it is processed. */
  @IsOptional()
  @IsISO8601({ strict: true })
  occurredAt?: string;
}

/**
 * Payload of job `documents.expiry-scan`: one tenant's expiry scan. The tenant is
 * the run's (JobMessage.companyId / the CloudEvent's `companyid`, `ctx.companyId`),
 * never a payload field.
 */
export class ExpiryScanJob {
  /** The instant the scan judges by; absent: the service clock. */
  @IsOptional()
  @IsISO8601({ strict: true })
  asOf?: string;
}

/** Payload of job `documents.expiry-scan-all`: enqueues one `documents.expiry-scan` per tenant. */
export class ExpiryScanAllJob {
  @IsOptional()
  @IsISO8601({ strict: true })
  asOf?: string;
}

/**
 * `document.settings_changed` (apps/documents): a tenant saved its expiry
 * settings. The scheduler moves the tenant's expiry scan to `scanHour`
 * (local time); `version` orders the changes of one tenant.
 */
export class DocumentSettingsChangedEvent {
  @IsString()
  @Matches(TOKEN)
  companyId: string;

  @IsInt()
  @Min(0)
  @Max(23)
  scanHour: number;

  @IsInt()
  @Min(1)
  version: number;
}
