import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

/**
 * Contracts of the events the notifier consumes and of its jobs. The document
 * alert contracts describe what apps/documents publishes (expiry.service.ts);
 * extra fields are allowed (whitelist off), only what the notifier reads is checked.
 */
const TENANT = /^[A-Za-z0-9_-]{1,100}$/;

abstract class DocumentAlertBase {
  /** The document id. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  id: string;

  @Matches(TENANT)
  companyId: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  type?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  owner?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  responsibleRole?: string | null;

  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

/** `document.expiring`: a document crossed one of its tenant's thresholds. */
export class DocumentExpiringEvent extends DocumentAlertBase {
  @IsOptional()
  @IsInt()
  daysLeft?: number;

  @IsOptional()
  @IsInt()
  thresholdDays?: number;
}

/** `document.expired`: a document's expiry passed. */
export class DocumentExpiredEvent extends DocumentAlertBase {}

/** `document.escalated`: an unacknowledged alert went up the escalation chain. */
export class DocumentEscalatedEvent extends DocumentAlertBase {
  @IsInt()
  @Min(1)
  level: number;

  /** The role escalated to. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  role: string;

  @IsOptional()
  @IsIn(['expiring', 'expired'])
  alertKind?: string;
}

/** `task.assigned` (apps/recurrence): a task instance has an assignee. */
export class TaskAssignedEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  taskId: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  assigneeUserId: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  dueAt?: string;
}

/** `task.status_changed`: a task instance moved (told to its assignee unless they made the change). */
export class TaskStatusChangedEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  taskId: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  status: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  assigneeUserId?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  changedBy?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string;
}

/** `calendar.reminder_due` (apps/recurrence): a calendar event starts soon. */
export class CalendarReminderDueEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  eventId: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string;

  @IsISO8601({ strict: true })
  startsAt: string;

  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  attendeeUserIds: string[];

  @IsOptional()
  @IsInt()
  offsetMinutes?: number;
}

/** `task.reminder_due` (apps/recurrence): an open task is due soon; its assignee is told. */
export class TaskReminderDueEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  taskId: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  templateId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string;

  @IsISO8601({ strict: true })
  dueAt: string;

  @IsOptional()
  @ValidateIf((o: TaskReminderDueEvent) => o.assigneeUserId !== null)
  @IsString()
  @MaxLength(200)
  assigneeUserId?: string | null;

  /** The template's offset as given (PT1H, P1D). */
  @IsOptional()
  @IsString()
  @MaxLength(50)
  offset?: string;
}

/** `notification.requested`: any service asks to tell users or roles something. */
export class NotificationRequestedEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  title: string;

  @IsOptional()
  @IsString()
  @MaxLength(5000)
  body?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  userIds?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  roles?: string[];

  @IsOptional()
  @IsIn(['info', 'warning', 'critical'])
  severity?: 'info' | 'warning' | 'critical';
}

/** Job `notifier.deliver`: one notification to one recipient through one channel. */
export class DeliverJob {
  @IsIn(['email', 'webhook', 'push'])
  channel: 'email' | 'webhook' | 'push';

  /** The in-app notification to email or push to its recipient's browsers (channels email, push). */
  @ValidateIf((o: DeliverJob) => o.channel === 'email' || o.channel === 'push')
  @IsString()
  @IsNotEmpty()
  notificationId?: string;

  /** The tenant webhook (channel webhook). */
  @ValidateIf((o: DeliverJob) => o.channel === 'webhook')
  @IsString()
  @IsNotEmpty()
  webhookId?: string;

  /** The event told to the webhook (channel webhook). */
  @ValidateIf((o: DeliverJob) => o.channel === 'webhook')
  @IsObject()
  event?: { id: string; type: string; time: string; data: Record<string, unknown>; recipients: string[] };
}

class DigestPeriod {
  @IsISO8601({ strict: true })
  from: string;

  @IsISO8601({ strict: true })
  to: string;
}

/** Jobs `notifier.weekly-digest` / `notifier.monthly-report`: one tenant's summary; absent period: the last week / month. */
export class DigestJob {
  @IsOptional()
  @ValidateNested()
  @Type(() => DigestPeriod)
  period?: DigestPeriod;
}

/** Job `notifier.alert-summary`: the end of a job alert's rate-limit window; what was folded into it is told in one summary. */
export class AlertSummaryJob {
  /** '<event type>:<job>' */
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  alertKey: string;

  @IsISO8601({ strict: true })
  windowEndsAt: string;
}
