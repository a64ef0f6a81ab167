import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  CalendarReminderDueEvent,
  DocumentEscalatedEvent,
  DocumentExpiredEvent,
  DocumentExpiringEvent,
  EVENT_TYPES,
  JetStreamContext,
  NotificationRequestedEvent,
  OnMessage,
  PermanentError,
  TaskAssignedEvent,
  TaskReminderDueEvent,
  TaskStatusChangedEvent,
} from '../../../../libs/common/src/index.js';
import { assertTenant } from '../members/members.consumer.js';
import { NotificationsService, type Audience } from './notifications.service.js';

function eventTime(ctx: JetStreamContext): Date {
  const t = new Date(ctx.event.time);
  return Number.isNaN(t.getTime()) ? new Date() : t;
}

function tenantOf(ctx: JetStreamContext): string {
  if (!ctx.companyId) throw new PermanentError('the event names no tenant');
  return ctx.companyId;
}

/** The events the notifier tells people about (notifier-events): decode, resolve the audience, notify. */
@Controller()
export class NotificationsConsumer {
  constructor(private readonly notifications: NotificationsService) {}

  private async notify(ctx: JetStreamContext, type: string, data: object, audience: Audience, critical: boolean): Promise<void> {
    await this.notifications.notify({ id: ctx.eventId, type, companyId: tenantOf(ctx), time: eventTime(ctx), data: { ...data } as Record<string, unknown>, audience, critical });
  }

  @OnMessage(EVENT_TYPES.documentExpiring)
  async expiring(@Payload() e: DocumentExpiringEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.notify(ctx, EVENT_TYPES.documentExpiring, e, { roles: e.responsibleRole ? [e.responsibleRole] : [], userIds: e.owner ? [e.owner] : [] }, false);
  }

  @OnMessage(EVENT_TYPES.documentExpired)
  async expired(@Payload() e: DocumentExpiredEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.notify(ctx, EVENT_TYPES.documentExpired, e, { roles: e.responsibleRole ? [e.responsibleRole] : [], userIds: e.owner ? [e.owner] : [] }, true);
  }

  @OnMessage(EVENT_TYPES.documentEscalated)
  async escalated(@Payload() e: DocumentEscalatedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    assertTenant(e.companyId, ctx);
    await this.notify(ctx, EVENT_TYPES.documentEscalated, e, { roles: [e.role] }, e.level >= 2);
  }

  @OnMessage(EVENT_TYPES.taskAssigned)
  async taskAssigned(@Payload() e: TaskAssignedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.notify(ctx, EVENT_TYPES.taskAssigned, e, { userIds: [e.assigneeUserId] }, false);
  }

  @OnMessage(EVENT_TYPES.taskStatusChanged)
  async taskStatusChanged(@Payload() e: TaskStatusChangedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    const tell = e.assigneeUserId && e.assigneeUserId !== e.changedBy ? [e.assigneeUserId] : [];
    await this.notify(ctx, EVENT_TYPES.taskStatusChanged, e, { userIds: tell }, false);
  }

  @OnMessage(EVENT_TYPES.calendarReminderDue)
  async reminder(@Payload() e: CalendarReminderDueEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.notify(ctx, EVENT_TYPES.calendarReminderDue, e, { userIds: e.attendeeUserIds }, false);
  }

  @OnMessage(EVENT_TYPES.taskReminderDue)
  async taskReminder(@Payload() e: TaskReminderDueEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.notify(ctx, EVENT_TYPES.taskReminderDue, e, { userIds: e.assigneeUserId ? [e.assigneeUserId] : [] }, false);
  }

  @OnMessage(EVENT_TYPES.notificationRequested)
  async requested(@Payload() e: NotificationRequestedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.notify(ctx, EVENT_TYPES.notificationRequested, e, { userIds: e.userIds ?? [], roles: e.roles ?? [] }, e.severity === 'critical');
  }
}
