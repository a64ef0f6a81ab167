/**
 * Every stream, subject and durable consumer name in one place. Decorators and
 * publishers use these constants, never string literals.
 */
export const STREAMS = {
  EVENTS: 'EVENTS',
  JOBS: 'JOBS',
  DLQ: 'DLQ',
} as const;
export type StreamName = (typeof STREAMS)[keyof typeof STREAMS];

export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Domain event types (CloudEvents `type`). Subject: events.<companyId>.<type>. */
export const EVENT_TYPES = {
  documentUpserted: 'document.upserted',
  documentDeleted: 'document.deleted',
  documentAcknowledged: 'document.acknowledged',
  documentExpiring: 'document.expiring',
  documentExpired: 'document.expired',
  documentEscalated: 'document.escalated',
  memberUpserted: 'member.upserted',
  memberRemoved: 'member.removed',
  taskGenerated: 'task.generated',
  taskAssigned: 'task.assigned',
  taskStatusChanged: 'task.status_changed',
  calendarReminderDue: 'calendar.reminder_due',
  taskReminderDue: 'task.reminder_due',
  notificationRequested: 'notification.requested',
  jobDead: 'job.dead',
  jobSlaBreached: 'job.sla_breached',
  jobTimedOut: 'job.timed_out',
  tenantUpserted: 'tenant.upserted',
  documentSettingsChanged: 'document.settings_changed',
} as const;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** Job names (CloudEvents `type` of job messages). Subject: jobs.<priority>.<job>. */
export const JOB_NAMES = {
  documentsTick: 'documents.tick',
  recurrenceGenerate: 'recurrence.generate',
  recurrenceReminder: 'recurrence.reminder',
  recurrenceTaskReminder: 'recurrence.task-reminder',
  recurrenceCleanup: 'recurrence.cleanup',
  documentsExpiryScan: 'documents.expiry-scan',
  documentsExpiryScanAll: 'documents.expiry-scan-all',
  schedulerRetention: 'scheduler.retention',
  notifierDeliver: 'notifier.deliver',
  notifierWeeklyDigest: 'notifier.weekly-digest',
  notifierMonthlyReport: 'notifier.monthly-report',
  notifierAlertSummary: 'notifier.alert-summary',
} as const;
export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES] | string;

/** Tokens of a subject may not contain dots, spaces or wildcards. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

export function assertSubjectToken(value: string, what: string): void {
  if (!TOKEN.test(value)) throw new Error(`${what} "${value}" is not a valid subject token (letters, digits, _ and - only)`);
}

export const subjects = {
  event(companyId: string, type: string): string {
    assertSubjectToken(companyId, 'companyId');
    return `events.${companyId}.${type}`;
  },
  /** Every tenant's events of one type (a consumer filter). */
  eventsOfType(type: string): string {
    return `events.*.${type}`;
  },
  job(priority: Priority, job: string): string {
    return `jobs.${priority}.${job}`;
  },
  /** One job name at every priority (a consumer filter). */
  jobsOfPrefix(prefix: string): string {
    return `jobs.*.${prefix}.>`;
  },
  /** One priority of a service's jobs (a job runtime consumer filter). */
  jobsOfPriority(priority: Priority, prefix: string): string {
    return `jobs.${priority}.${prefix}.>`;
  },
  /** The job runtime's durable consumer for one priority of a service. */
  jobConsumer(service: string, priority: Priority): string {
    return `${service}-jobs-${priority}`;
  },
  dlq(stream: string, consumer: string): string {
    return `dlq.${stream}.${consumer}`;
  },
  /** NATS core (no stream): a stored in-app notification for one user, fanned out to every notifier replica's SSE streams. */
  notifierInbox(companyId: string, userKey: string): string {
    assertSubjectToken(companyId, 'companyId');
    assertSubjectToken(userKey, 'user key');
    return `notifier.inbox.${companyId}.${userKey}`;
  },
  /** Every tenant's in-app notifications (what each notifier replica subscribes to). */
  notifierInboxAll(): string {
    return 'notifier.inbox.>';
  },
} as const;

export const STREAM_SUBJECTS: Record<StreamName, string[]> = {
  EVENTS: ['events.>'],
  JOBS: ['jobs.>'],
  DLQ: ['dlq.>'],
};

/** Durable consumer names. */
export const CONSUMERS = {
  documentsEvents: 'documents-events',
  documentsTenants: 'documents-tenants',
  recurrenceEvents: 'recurrence-events',
  notifierEvents: 'notifier-events',
  schedulerEvents: 'scheduler-events',
} as const;
export type ConsumerName = (typeof CONSUMERS)[keyof typeof CONSUMERS];
// The job runtime's per-priority consumers are named by subjects.jobConsumer(service, priority), e.g. documents-jobs-normal.

/** The JetStream KV bucket the job runtime's workers watch: `paused.<job>`, `queue.<priority>`. */
export const CONTROL_BUCKET = 'control';

/**
 * Per-run state that outlives a delivery, kept as long as a job message can
 * (JOBS max age): `cancel.<run>` (watched by every worker) and
 * `ledger.<stream sequence>` (deferrals and settled deliveries of one job
 * message, so an attempt number is its delivery count minus its deferrals).
 */
export const RUNS_BUCKET = 'runs';

/** Worker heartbeats (`<service>.<instance>`): what each process runs now; entries expire when a worker stops beating. */
export const WORKERS_BUCKET = 'workers';
/** The JetStream KV bucket of job declarations: key = job name, value = what its handler declares (jobs/job-catalog.ts). */
export const JOB_CATALOG_BUCKET = 'job-catalog';

export const HEADERS = {
  companyId: 'Metronome-Company-Id',
  runId: 'Metronome-Run-Id',
  scheduledFor: 'Metronome-Scheduled-For',
} as const;

/** Whether `subject` matches a NATS filter (`*` one token, `>` one or more trailing tokens). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
