import { IsISO8601, IsObject, IsOptional, IsString } from 'class-validator';

/** The scheduler's own daily job (JobMessage shape). */
export class RetentionJob {
  @IsString()
  runId: string;

  @IsISO8601()
  scheduledFor: string;

  @IsOptional()
  @IsObject()
  payload?: Record<string, unknown>;

  @IsOptional()
  @IsString()
  scheduleId?: string;
}
