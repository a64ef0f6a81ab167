import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { TOKEN } from '../dto/pagination.js';

export class TenantCreateBody {
  @ApiProperty({ pattern: TOKEN.source, description: 'The tenant key every service uses (letters, digits, _ and -)' })
  @IsString() @Matches(TOKEN, { message: 'companyId must be 1-100 letters, digits, _ or -' }) companyId: string;

  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) name?: string;

  @ApiProperty({ example: 'Europe/Berlin', description: 'IANA timezone: every service reads the tenant\'s local times in it' })
  @IsString() @MaxLength(64) timezone: string;

  @ApiPropertyOptional({ example: 'de-DE', default: 'en', description: 'BCP 47 language tag' }) @IsOptional() @IsString() @MaxLength(35) locale?: string;

  @ApiPropertyOptional({ default: false, description: 'A paused tenant gets no scheduled runs' }) @IsOptional() @IsBoolean() paused?: boolean;
}

/** Tenant administrators may send timezone and locale only. */
export class TenantPatchBody {
  @ApiPropertyOptional({ maxLength: 200, nullable: true }) @IsOptional() @IsString() @MaxLength(200) name?: string | null;
  @ApiPropertyOptional({ example: 'America/New_York' }) @IsOptional() @IsString() @MaxLength(64) timezone?: string;
  @ApiPropertyOptional({ example: 'en-US' }) @IsOptional() @IsString() @MaxLength(35) locale?: string;
  @ApiPropertyOptional({ description: 'false: the tenant is gone (no runs)' }) @IsOptional() @IsBoolean() active?: boolean;
  @ApiPropertyOptional({ description: 'true: no scheduled runs until resumed' }) @IsOptional() @IsBoolean() paused?: boolean;
}

export class ListTenantsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(200) @Matches(/^[A-Za-z0-9_-]+$/) cursor?: string;
}
