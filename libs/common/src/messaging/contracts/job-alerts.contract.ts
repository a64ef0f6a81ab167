import { IsBoolean, IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, MaxLength, Min } from 'class-validator';

/**
 * `job.dead`: a message was dead-lettered (libs/common/src/dead-letters/dead-job.publisher.ts).
 * Published on events.<companyId>.job.dead for a tenant's message, on
 * events._platform.job.dead for a run without a tenant (or one whose tenant
 * cannot be trusted). The notifier tells the tenant's admins, or the system admins.
 */
export class JobDeadEvent {
  /** The run id (a job) or the event id (an event); the dead letter's id when the message had none. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  runId: string;

  /** The job name, or the event type for a dead-lettered event ("unknown" when unreadable). */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  job: string;

  @IsOptional()
  @IsString()
  @MaxLength(5000)
  error?: string;

  /** `job` (stream JOBS) or `event` (stream EVENTS). */
  @IsOptional()
  @IsIn(['job', 'event'])
  kind?: 'job' | 'event';

  @IsOptional()
  @IsString()
  @MaxLength(200)
  consumer?: string;

  /** Why it was dead-lettered: attempts_exhausted, permanent_error, invalid_payload, malformed, tenant_mismatch. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  reason?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  attempts?: number;

  /** The dead letter's id (GET /api/v1/dlq/:id on the scheduler). */
  @IsOptional()
  @IsString()
  @MaxLength(300)
  deadLetterId?: string;

  @IsOptional()
  @IsISO8601()
  failedAt?: string;
}

/** `job.timed_out`: an attempt of a job run exceeded its timeout (the runtime aborted it; it is retried while attempts remain). */
export class JobTimedOutEvent {
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

  @IsInt()
  @Min(1)
  attempt: number;

  @IsInt()
  @Min(1)
  maxAttempts: number;

  @IsInt()
  @Min(0)
  timeoutMs: number;

  /** True on the last attempt: the run is dead-lettered next (a job.dead follows). */
  @IsBoolean()
  final: boolean;

  @IsISO8601()
  timedOutAt: string;
}
