import { IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';

const TENANT = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * recurrence.generate: one tenant's task instances and reminders up to the horizon.
 * The run's tenant is the job message's companyId; a payload companyId, when given, must match it.
 */
export class GenerateJobPayload {
  @IsOptional()
  @Matches(TENANT)
  companyId?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(366)
  horizonDays?: number;
}

/** recurrence.reminder: one planned reminder, fired only if still current. */
export class ReminderJobPayload {
  @IsString()
  reminderId: string;

  @IsInt()
  @Min(1)
  revision: number;
}

/** recurrence.task-reminder: one planned task reminder, sent only if its plan is current and the task still open at that due time. */
export class TaskReminderJobPayload {
  @IsString()
  @MaxLength(300)
  reminderId: string;

  @IsInt()
  @Min(1)
  plan: number;
}

/**
 * recurrence.cleanup: one tenant's finished entries older than its setting.
 * (A contract class needs at least one decorated property: class-validator
 * refuses an instance of an undecorated class as an unknown value.)
 */
export class CleanupJobPayload {
  @IsOptional()
  @Matches(TENANT)
  companyId?: string;
}

/**
 * `task.generated` (apps/recurrence): a task instance was created from its template.
 * Event id `${templateId}:${occurrenceAt}` (`:r<revision>` appended after an edit), so repeats are deduplicated.
 */
export class TaskGeneratedEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  taskId: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  templateId: string;

  @IsString()
  @MaxLength(500)
  title: string;

  @IsISO8601({ strict: true })
  occurrenceAt: string;

  @IsISO8601({ strict: true })
  dueAt: string;

  @IsOptional()
  @ValidateIf((o: TaskGeneratedEvent) => o.assigneeUserId !== null)
  @IsString()
  @MaxLength(200)
  assigneeUserId?: string | null;
}

