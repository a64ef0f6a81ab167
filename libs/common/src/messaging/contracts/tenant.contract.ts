import { IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateIf } from 'class-validator';

/**
 * `tenant.upserted`: a company was registered or changed. The scheduler's
 * tenant registry publishes it after every change with the tenant's `version`
 * (event id `tenant:<companyId>:v<version>`); documents and recurrence take the
 * tenant's timezone from it and apply a version only once and in order. An
 * event without a version (another service announcing a company) is a
 * registration request: the registry applies it and publishes the result.
 */
export class TenantUpsertedEvent {
  /** Defaults to the event's companyid. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,100}$/)
  companyId?: string;

  @IsString()
  @MaxLength(64)
  timezone: string;

  @IsOptional()
  @IsString()
  @MaxLength(35)
  locale?: string;

  @IsOptional()
  @ValidateIf((o: TenantUpsertedEvent) => o.name !== null)
  @IsString()
  @MaxLength(200)
  name?: string | null;

  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @IsOptional()
  @IsBoolean()
  paused?: boolean;

  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}
