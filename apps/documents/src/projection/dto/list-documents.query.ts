import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** GET /api/v1/documents: a tenant's documents expiring in [from, to), by expiry then id. */
export class ListDocumentsQuery {
  /** Start of the expiry window (inclusive); default: now. */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** End of the expiry window (exclusive); default: no end. */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(600)
  cursor?: string;
}

export class AcknowledgeDocumentBody {
  /** Only alerts of this expiry; default: the document's current expiry. */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}
