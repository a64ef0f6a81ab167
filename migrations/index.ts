import { Foundation1763800000000 } from './1763800000000-foundation.js';
import { JobRuns1763810000000 } from './1763810000000-job-runs.js';
import { Schedules1763820000000 } from './1763820000000-schedules.js';
import { Audit1763840000000 } from './1763840000000-audit.js';
import { Documents1763910000000 } from './1763910000000-documents.js';
import { Recurrence1763920000000 } from './1763920000000-recurrence.js';
import { Durability1763950000000 } from './1763950000000-durability.js';
import { Notifier1763930000000 } from './1763930000000-notifier.js';
import { JobAttempts1764800000000 } from './1764800000000-job-attempts.js';
import { ApiRateLimits1796362376548 } from './1796362376548-api-rate-limits.js';
import { TenantCaps1796363619104 } from './1796363619104-tenant-caps.js';
import { RetentionIndexes1796362426507 } from './1796362426507-retention-indexes.js';
import { TenantRegistry1796362777350 } from './1796362777350-tenant-registry.js';
import { DocumentsTenantZone1796363368658 } from './1796363368658-documents-tenant-zone.js';
import { RecurrenceTenantZone1796363769544 } from './1796363769544-recurrence-tenant-zone.js';
import { TaskReminders1796365002810 } from './1796365002810-task-reminders.js';
import { NotifierAlertsPush1796362696279 } from './1796362696279-notifier-alerts-push.js';
import { QueueStats1796364451771 } from './1796364451771-queue-stats.js';
import { ScheduleDeclarations1796366000000 } from './1796366000000-schedule-declarations.js';
import { AuditAppendOnly1796366000001 } from './1796366000001-audit-append-only.js';
import { AttemptStacks1796366000002 } from './1796366000002-attempt-stacks.js';
import { StatsAppendOnly1796366000003 } from './1796366000003-stats-append-only.js';
import { StatsRolledFromHistory1796366000004 } from './1796366000004-stats-rolled-from-history.js';

/** Every migration, in order. New migrations are appended here. */
export const MIGRATIONS = [
  Foundation1763800000000,
  JobRuns1763810000000,
  Schedules1763820000000,
  Documents1763910000000,
  Recurrence1763920000000,
  Audit1763840000000,
  Durability1763950000000,
  Notifier1763930000000,
  JobAttempts1764800000000,
  ApiRateLimits1796362376548,
  TenantCaps1796363619104,
  RetentionIndexes1796362426507,
  TenantRegistry1796362777350,
  DocumentsTenantZone1796363368658,
  RecurrenceTenantZone1796363769544,
  TaskReminders1796365002810,
  NotifierAlertsPush1796362696279,
  QueueStats1796364451771,
  ScheduleDeclarations1796366000000,
  AuditAppendOnly1796366000001,
  AttemptStacks1796366000002,
  StatsAppendOnly1796366000003,
  StatsRolledFromHistory1796366000004,
];
