import { EVENT_TYPES } from '../subjects.js';
import type { ContractClass } from './contract-registry.js';
import { MemberRemovedEvent, MemberUpsertedEvent } from './member.contract.js';
import { TaskGeneratedEvent } from './recurrence.contract.js';
import { JobSlaBreachedEvent } from './job-sla.contract.js';
import { JobDeadEvent, JobTimedOutEvent } from './job-alerts.contract.js';
import {
  CalendarReminderDueEvent,
  DocumentEscalatedEvent,
  DocumentExpiredEvent,
  DocumentExpiringEvent,
  NotificationRequestedEvent,
  TaskAssignedEvent,
  TaskReminderDueEvent,
  TaskStatusChangedEvent,
} from './notifier.contract.js';
import { DocumentAcknowledgedEvent, DocumentDeletedEvent, DocumentSettingsChangedEvent, DocumentUpsertedEvent } from './document.contract.js';
import { TenantUpsertedEvent } from './tenant.contract.js';

export * from './contract-registry.js';
export * from './tick.contract.js';
export * from './member.contract.js';
export * from './recurrence.contract.js';
export * from './document.contract.js';
export * from './job-sla.contract.js';
export * from './notifier.contract.js';
export * from './tenant.contract.js';
export * from './job-alerts.contract.js';

/**
 * Every message type Metronome consumes, with its payload contract. Jobs run by
 * the job runtime are not listed: their envelope is checked as a JobEnvelope and
 * their payload against the @JobHandler's `payload` class.
 */
export const MESSAGE_CONTRACTS: Record<string, ContractClass> = {
  [EVENT_TYPES.memberUpserted]: MemberUpsertedEvent,
  [EVENT_TYPES.memberRemoved]: MemberRemovedEvent,
  [EVENT_TYPES.documentUpserted]: DocumentUpsertedEvent,
  [EVENT_TYPES.documentDeleted]: DocumentDeletedEvent,
  [EVENT_TYPES.documentAcknowledged]: DocumentAcknowledgedEvent,
  [EVENT_TYPES.jobSlaBreached]: JobSlaBreachedEvent,
  [EVENT_TYPES.documentExpiring]: DocumentExpiringEvent,
  [EVENT_TYPES.documentExpired]: DocumentExpiredEvent,
  [EVENT_TYPES.documentEscalated]: DocumentEscalatedEvent,
  [EVENT_TYPES.taskGenerated]: TaskGeneratedEvent,
  [EVENT_TYPES.taskAssigned]: TaskAssignedEvent,
  [EVENT_TYPES.taskStatusChanged]: TaskStatusChangedEvent,
  [EVENT_TYPES.calendarReminderDue]: CalendarReminderDueEvent,
  [EVENT_TYPES.taskReminderDue]: TaskReminderDueEvent,
  [EVENT_TYPES.notificationRequested]: NotificationRequestedEvent,
  [EVENT_TYPES.jobDead]: JobDeadEvent,
  [EVENT_TYPES.tenantUpserted]: TenantUpsertedEvent,
  [EVENT_TYPES.documentSettingsChanged]: DocumentSettingsChangedEvent,
  [EVENT_TYPES.jobTimedOut]: JobTimedOutEvent,
};
