import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Recurrence's tables (migrations/1763920000000-recurrence.ts), described for
 * the TypeORM CLI and the data source. The repositories speak SQL to them;
 * the schema is only ever changed by migrations.
 */

/** Per-tenant settings: how far ahead to generate, when to clean up. */
@Entity('recurrence_settings')
export class RecurrenceSettingsEntity {
  @PrimaryColumn({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'horizon_days', type: 'int' }) horizonDays: number;
  @Column({ name: 'cleanup_after_days', type: 'int', nullable: true }) cleanupAfterDays: number | null;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** Each tenant's timezone as the tenant registry last announced it (tenant.upserted). */
@Entity('recurrence_tenants')
export class RecurrenceTenantEntity {
  @PrimaryColumn({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ type: 'text' }) timezone: string;
  @Column({ type: 'bigint' }) version: string;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** Recurrence's own member directory, projected from member.upserted / member.removed. */
@Entity('recurrence_members')
export class RecurrenceMemberEntity {
  @PrimaryColumn({ name: 'company_id', type: 'text' }) companyId: string;
  @PrimaryColumn({ name: 'user_id', type: 'text' }) userId: string;
  @Column({ type: 'text', array: true }) roles: string[];
  @Column({ type: 'boolean' }) removed: boolean;
  @Column({ name: 'event_order', type: 'bigint' }) eventOrder: string;
}

/** A recurring task: an RFC 5545 rule in a zone, a local start, a due offset and how to assign it. */
@Entity('task_templates')
export class TaskTemplateEntity {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ type: 'text' }) title: string;
  @Column({ type: 'text' }) rule: string;
  @Column({ type: 'text' }) timezone: string;
  /** Created without a timezone of its own: follows the tenant's. */
  @Column({ name: 'zone_from_tenant', type: 'boolean' }) zoneFromTenant: boolean;
  @Column({ name: 'start_local', type: 'text' }) startLocal: string;
  @Column({ type: 'text', array: true }) exdates: string[];
  @Column({ name: 'due_offset_minutes', type: 'int' }) dueOffsetMinutes: number;
  @Column({ type: 'text' }) assignment: string;
  @Column({ name: 'assignee_user_id', type: 'text', nullable: true }) assigneeUserId: string | null;
  @Column({ name: 'assignee_role', type: 'text', nullable: true }) assigneeRole: string | null;
  @Column({ name: 'round_robin_cursor', type: 'bigint' }) roundRobinCursor: string;
  /** ISO 8601 durations before each instance's due time. */
  @Column({ name: 'reminder_offsets', type: 'text', array: true }) reminderOffsets: string[];
  @Column({ type: 'int' }) revision: number;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** One occurrence of a template; unique per (template_id, occurrence_at). */
@Entity('task_instances')
export class TaskInstanceEntity {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'template_id', type: 'uuid' }) templateId: string;
  @Column({ name: 'template_revision', type: 'int' }) templateRevision: number;
  @Column({ name: 'occurrence_at', type: 'timestamptz' }) occurrenceAt: Date;
  @Column({ name: 'due_at', type: 'timestamptz' }) dueAt: Date;
  @Column({ type: 'text' }) title: string;
  @Column({ name: 'assignee_user_id', type: 'text', nullable: true }) assigneeUserId: string | null;
  @Column({ type: 'text' }) status: string;
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

/** A one-time (rule null) or recurring calendar event with attendees and reminder offsets. */
@Entity('calendar_events')
export class CalendarEventEntity {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ type: 'text' }) title: string;
  @Column({ type: 'text', nullable: true }) rule: string | null;
  @Column({ type: 'text' }) timezone: string;
  @Column({ name: 'zone_from_tenant', type: 'boolean' }) zoneFromTenant: boolean;
  @Column({ name: 'start_local', type: 'text' }) startLocal: string;
  @Column({ name: 'duration_minutes', type: 'int' }) durationMinutes: number;
  @Column({ name: 'attendee_user_ids', type: 'text', array: true }) attendeeUserIds: string[];
  @Column({ name: 'reminder_offsets_minutes', type: 'int', array: true }) reminderOffsetsMinutes: number[];
  @Column({ type: 'int' }) revision: number;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** One reminder of one occurrence at one offset; its job is a one-off outbox job at due_at. */
@Entity('calendar_reminders')
export class CalendarReminderEntity {
  @PrimaryColumn({ type: 'text' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'event_id', type: 'uuid' }) eventId: string;
  @Column({ name: 'event_revision', type: 'int' }) eventRevision: number;
  @Column({ name: 'occurrence_at', type: 'timestamptz' }) occurrenceAt: Date;
  @Column({ name: 'offset_minutes', type: 'int' }) offsetMinutes: number;
  @Column({ name: 'due_at', type: 'timestamptz' }) dueAt: Date;
  @Column({ type: 'text' }) state: string;
  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true }) sentAt: Date | null;
}

/** One reminder of one task instance at one offset; its job is a one-off outbox job at due_at. */
@Entity('task_reminders')
export class TaskReminderEntity {
  @PrimaryColumn({ type: 'text' }) id: string;
  @Column({ name: 'company_id', type: 'text' }) companyId: string;
  @Column({ name: 'task_id', type: 'uuid' }) taskId: string;
  @Column({ name: 'offset_text', type: 'text' }) offsetText: string;
  @Column({ name: 'offset_ms', type: 'bigint' }) offsetMs: string;
  @Column({ name: 'task_due_at', type: 'timestamptz' }) taskDueAt: Date;
  @Column({ name: 'due_at', type: 'timestamptz' }) dueAt: Date;
  @Column({ type: 'int' }) plan: number;
  @Column({ type: 'text' }) state: string;
  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true }) sentAt: Date | null;
}

export const RECURRENCE_ENTITIES = [
  RecurrenceSettingsEntity,
  RecurrenceTenantEntity,
  RecurrenceMemberEntity,
  TaskTemplateEntity,
  TaskInstanceEntity,
  CalendarEventEntity,
  CalendarReminderEntity,
  TaskReminderEntity,
];
