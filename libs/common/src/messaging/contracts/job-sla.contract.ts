import { IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, MaxLength, Min } from 'class-validator';

/** The tenant token of platform runs (no companyId) in event subjects. */
export const PLATFORM_TENANT = '_platform';

/** `job.sla_breached`: a run exceeded its job's maximum duration or lateness (docs/durability.md). */
export class JobSlaBreachedEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  runId: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  job: string;

  @IsOptional()
  @IsString()
  companyId?: string;

  @IsIn(['duration', 'lateness'])
  kind: 'duration' | 'lateness';

  /** The job's limit for this kind. */
  @IsInt()
  @Min(0)
  limitMs: number;

  /** How long it ran (duration) or how late it started (lateness) when the breach was seen. */
  @IsInt()
  @Min(0)
  observedMs: number;

  @IsOptional()
  @IsISO8601()
  scheduledFor?: string;

  @IsISO8601()
  breachedAt: string;
}
