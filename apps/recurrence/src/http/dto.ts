import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, registerDecorator, ValidateIf } from 'class-validator';
import { PageParams } from '../../../../libs/common/src/http/pagination.js';
import { reminderOffsets } from '../tasks/task-reminder-plan.js';

const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/** ISO 8601 durations before the due time (PT1H, P1D), between PT1M and P366D, at most 10. */
function IsReminderOffsets(): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'isReminderOffsets',
      target: target.constructor,
      propertyName: property as string,
      options: { message: '$property must be at most 10 durations such as PT1H or P1D, each between PT1M and P366D' },
      validator: {
        validate: (v: unknown) => {
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length <= 50)) return false;
          try {
            reminderOffsets(v as string[]);
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

export class TemplateDto {
  @IsString() @MaxLength(200) title: string;
  @IsString() @MaxLength(1000) rule: string;
  @IsOptional() @IsString() @MaxLength(64) timezone?: string;
  @Matches(LOCAL, { message: 'startLocal must be a local date-time like 2026-01-05T09:00' }) startLocal: string;
  @IsOptional() @IsArray() @ArrayMaxSize(500) @Matches(LOCAL, { each: true }) exdates?: string[];
  @IsOptional() @IsInt() @Min(0) @Max(525_600) dueOffsetMinutes?: number;
  @IsOptional() @IsIn(['none', 'fixed', 'round_robin']) assignment?: 'none' | 'fixed' | 'round_robin';
  @ValidateIf((o: TemplateDto) => o.assignment === 'fixed') @IsString() @MaxLength(200) assigneeUserId?: string;
  @ValidateIf((o: TemplateDto) => o.assignment === 'round_robin') @IsString() @MaxLength(100) assigneeRole?: string;
  /** Reminders to the assignee before each instance is due, e.g. ["P1D", "PT1H"]. */
  @IsOptional() @IsReminderOffsets() reminderOffsets?: string[];
}

export class CalendarEventDto {
  @IsString() @MaxLength(200) title: string;
  @IsOptional() @IsString() @MaxLength(1000) rule?: string;
  @IsOptional() @IsString() @MaxLength(64) timezone?: string;
  @Matches(LOCAL, { message: 'startLocal must be a local date-time like 2026-01-05T09:00' }) startLocal: string;
  @IsOptional() @IsInt() @Min(1) @Max(10_080) durationMinutes?: number;
  @IsOptional() @IsArray() @ArrayMaxSize(500) @IsString({ each: true }) attendeeUserIds?: string[];
  @IsOptional() @IsArray() @ArrayMaxSize(10) @IsInt({ each: true }) @Min(0, { each: true }) @Max(525_600, { each: true }) reminderOffsetsMinutes?: number[];
}

/** Instances in [from, to) by occurrence, a page at a time (`limit`, `cursor`). */
export class InstancesQuery extends PageParams {
  @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @IsOptional() @IsUUID('all', { message: 'templateId must be a task template id (a UUID)' }) templateId?: string;
}

export class InstanceStatusDto {
  @IsIn(['open', 'started', 'done', 'cancelled']) status: 'open' | 'started' | 'done' | 'cancelled';
}

/** A field this API no longer takes, with where it went. */
function MovedTo(where: string): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'movedTo',
      target: target.constructor,
      propertyName: property as string,
      options: { message: `$property is not set here: ${where}` },
      validator: { validate: () => false },
    });
}

export class SettingsDto {
  /** The tenant's timezone is the tenant registry's; sending it is refused with where to change it. */
  @IsOptional() @MovedTo('a tenant\'s timezone is changed in the tenant registry (PATCH /api/v1/tenants/{companyId} on the scheduler)') timezone?: unknown;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(366) horizonDays?: number;
  @IsOptional() @IsInt() @Min(1) @Max(3650) cleanupAfterDays?: number | null;
}
