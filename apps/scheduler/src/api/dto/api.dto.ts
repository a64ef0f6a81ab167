import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ArrayMaxSize, ArrayMinSize, ValidateNested,
} from 'class-validator';
import { parsePriority, PRIORITIES, PRIORITY_INPUTS, RUN_STATES } from '../../../../../libs/common/src/index.js';

/** A priority given as a name or the seeds' number (1 critical, 5 high, 10 normal, 15 low) becomes its name; anything else fails @IsIn. */
const PriorityName = () => Transform(({ value }) => parsePriority(value) ?? value);
const PRIORITY_DOC = { enum: PRIORITY_INPUTS, description: 'critical, high, normal, low, or the numbers 1, 5, 10, 15 (1 = critical, 15 = low)' };
import { JOB_NAME, NamePageQuery, PageQuery, TOKEN } from './pagination.js';

export class ListRunsQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(JOB_NAME) @MaxLength(200) job?: string;
  @ApiPropertyOptional({ description: `Comma-separated: ${RUN_STATES.join(', ')}` })
  @IsOptional() @IsString() @Matches(new RegExp(`^(${RUN_STATES.join('|')})(,(${RUN_STATES.join('|')}))*$`)) state?: string;
  @ApiPropertyOptional({ description: 'Tenant (system-admin and service only; others see their own)' }) @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) scheduleId?: string;
}

export class ListJobsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 720, default: 24, description: 'Window of the counts, in hours' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(720) windowHours?: number;
}

export class ListJobsPageQuery extends NamePageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 720, default: 24, description: 'Window of the counts, in hours' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(720) windowHours?: number;
}

export class ListSchedulesQuery extends NamePageQuery {
  @ApiPropertyOptional({ description: 'Tenant (system-admin and service only; others see their own)' }) @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
}

export class MetricsQuery extends ListJobsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(JOB_NAME) @MaxLength(200) job?: string;
}

export class TriggerJobBody {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Job payload (JSON object)' })
  @IsOptional() @IsObject() payload?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Tenant to run for (tenant-admins: their own only)' }) @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
  @ApiPropertyOptional(PRIORITY_DOC) @IsOptional() @PriorityName() @IsIn(PRIORITIES) priority?: (typeof PRIORITIES)[number];
  @ApiPropertyOptional({ minimum: 0, maximum: 31 * 86_400_000 }) @IsOptional() @IsInt() @Min(0) @Max(31 * 86_400_000) delayMs?: number;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) idempotencyKey?: string;
}

export class EmptyBody {
  @ApiProperty({ description: 'The name of the queue (or job) being emptied, to confirm', example: 'low' }) @IsString() @MaxLength(200) confirm: string;
}

export class PauseBody {
  @ApiPropertyOptional({ maxLength: 500 }) @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

export class ListDlqQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) consumer?: string;
  @ApiPropertyOptional({ description: 'Message type (job name or event type)' }) @IsOptional() @IsString() @MaxLength(200) job?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) reason?: string;
  @ApiPropertyOptional({ description: 'Substring of the error' }) @IsOptional() @IsString() @MaxLength(200) error?: string;
  @ApiPropertyOptional({ enum: ['pending', 'retried', 'all'], default: 'pending' }) @IsOptional() @IsIn(['pending', 'retried', 'all']) status?: 'pending' | 'retried' | 'all';
}

export class DlqMatchBody {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) consumer?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) job?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) reason?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) error?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
}

export class RetryMatchingBody extends DlqMatchBody {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100, description: 'Most dead letters retried by this call' })
  @IsOptional() @IsInt() @Min(1) @Max(1000) max?: number;
}

export class PurgeBody extends DlqMatchBody {
  @ApiPropertyOptional({ type: [String], maxItems: 1000 }) @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @IsString({ each: true }) @MaxLength(200, { each: true }) ids?: string[];
  @ApiPropertyOptional({ description: 'Must be true to purge by filter (without ids)' }) @IsOptional() @IsBoolean() confirm?: boolean;
  @ApiPropertyOptional({ enum: ['pending', 'retried', 'all'], default: 'all' }) @IsOptional() @IsIn(['pending', 'retried', 'all']) status?: 'pending' | 'retried' | 'all';
}

export class CleanupBody {
  @ApiProperty({ minimum: 1, maximum: 3650, description: 'Delete finished runs older than this many days' })
  @IsInt() @Min(1) @Max(3650) olderThanDays: number;
  @ApiPropertyOptional({ default: false, description: 'Also delete failed and dead runs' }) @IsOptional() @IsBoolean() includeFailed?: boolean;
  @ApiPropertyOptional({ description: 'Only this tenant' }) @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
}

export class ListAuditQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) action?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) actor?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) targetType?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(300) targetId?: string;
}

export class BackoffBody {
  @ApiProperty({ enum: ['exponential', 'linear', 'fixed'] }) @IsIn(['exponential', 'linear', 'fixed']) kind: 'exponential' | 'linear' | 'fixed';
  @ApiProperty({ minimum: 1 }) @IsInt() @Min(1) @Max(86_400_000) baseMs: number;
  @ApiProperty({ minimum: 1 }) @IsInt() @Min(1) @Max(7 * 86_400_000) capMs: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 1 }) @IsOptional() @Min(0) @Max(1) jitter?: number;
}

const KINDS = ['cron', 'interval', 'once', 'event', 'manual'] as const;
const SCOPES = ['global', 'per_tenant', 'tenant'] as const;
const MISSED = ['skip', 'fire_once', 'fire_all'] as const;

/** Every field of a schedule but its name; semantic checks (cron, timezone, combinations) answer 422. */
export class SchedulePatchBody {
  @ApiPropertyOptional({ enum: KINDS }) @IsOptional() @IsIn(KINDS) kind?: (typeof KINDS)[number];
  @ApiPropertyOptional({ example: 'events.tick' }) @IsOptional() @IsString() @Matches(JOB_NAME) @MaxLength(200) job?: string;
  @ApiPropertyOptional({ example: '*/5 * * * *', description: '5 fields, or 6 with seconds first' }) @IsOptional() @IsString() @MaxLength(200) cron?: string;
  @ApiPropertyOptional({ example: '15m', description: 'Interval: "90s", "PT15M" or milliseconds as a string' }) @IsOptional() @IsString() @MaxLength(50) every?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601({ strict: true }) runAt?: string;
  @ApiPropertyOptional({ minimum: 0 }) @IsOptional() @IsInt() @Min(0) @Max(366 * 86_400_000) delayMs?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) eventType?: string;
  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA timezone, or "tenant"' }) @IsOptional() @IsString() @MaxLength(100) timezone?: string;
  @ApiPropertyOptional({ enum: SCOPES }) @IsOptional() @IsIn(SCOPES) scope?: (typeof SCOPES)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) @IsOptional() @IsObject() payload?: Record<string, unknown>;
  @ApiPropertyOptional(PRIORITY_DOC) @IsOptional() @PriorityName() @IsIn(PRIORITIES) priority?: (typeof PRIORITIES)[number];
  @ApiPropertyOptional({ minimum: 1, maximum: 100 }) @IsOptional() @IsInt() @Min(1) @Max(100) maxAttempts?: number;
  @ApiPropertyOptional({ type: BackoffBody }) @IsOptional() @ValidateNested() @Type(() => BackoffBody) backoff?: BackoffBody;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(86_400_000) timeoutMs?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(10_000) concurrency?: number;
  @ApiPropertyOptional({ enum: MISSED }) @IsOptional() @IsIn(MISSED) missedPolicy?: (typeof MISSED)[number];
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(10_000) maxCatchUp?: number;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601({ strict: true }) startsAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601({ strict: true }) endsAt?: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) maxRuns?: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
}

export class ScheduleCreateBody extends SchedulePatchBody {
  @ApiProperty({ example: 'nightly-report', pattern: '^[A-Za-z0-9_.:-]{1,200}$' }) @IsString() @Matches(/^[A-Za-z0-9_.:-]{1,200}$/) name: string;
  @ApiProperty({ enum: KINDS }) @IsIn(KINDS) declare kind: (typeof KINDS)[number];
  @ApiProperty() @IsString() @Matches(JOB_NAME) @MaxLength(200) declare job: string;
}

export const PREVIEW_MAX_COUNT = 1_000;

export class PreviewBody {
  @ApiPropertyOptional({ enum: ['cron', 'interval'], default: 'cron' }) @IsOptional() @IsIn(['cron', 'interval']) kind?: 'cron' | 'interval';
  @ApiPropertyOptional({ example: '0 9 * * 1-5' }) @IsOptional() @IsString() @MaxLength(200) cron?: string;
  @ApiPropertyOptional({ example: '15m' }) @IsOptional() @IsString() @MaxLength(50) every?: string;
  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC' }) @IsOptional() @IsString() @MaxLength(100) timezone?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: PREVIEW_MAX_COUNT, default: 10 }) @IsOptional() @IsInt() @Min(1) @Max(PREVIEW_MAX_COUNT) count?: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'Preview the firings at or after this instant (default: now)' })
  @IsOptional() @IsISO8601({ strict: true }) from?: string;
}

export class PreviewQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: PREVIEW_MAX_COUNT, default: 10 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(PREVIEW_MAX_COUNT) count?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) timezone?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Preview the firings at or after this instant (default: now)' })
  @IsOptional() @IsISO8601({ strict: true }) from?: string;
}

export class TriggerScheduleBody {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) @IsOptional() @IsObject() payload?: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
}
