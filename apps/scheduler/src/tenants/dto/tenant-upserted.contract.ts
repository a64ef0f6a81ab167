import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';

/** `tenant.upserted`: a company was created or changed; the scheduler keeps its timezone for per-tenant schedules. */
export class TenantUpsertedEvent {
  /** Defaults to the event's companyid. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]+$/)
  companyId?: string;

  @IsString()
  timezone: string;

  @IsOptional()
  @IsBoolean()
  active?: boolean;
}
