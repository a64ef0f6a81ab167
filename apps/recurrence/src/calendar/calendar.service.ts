import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock, EVENT_TYPES, EventPublisher, JobEnqueuer, JOB_NAMES } from '../../../../libs/common/src/index.js';
import { localDateTimeToInstant, parseRecurrenceRule } from '../../../../libs/common/src/time/index.js';
import { RecurrenceLimits, TenantLimitError } from '../limits/recurrence-limits.js';
import { occurrencesInWindow } from '../tasks/task-plan.js';
import { planReminders, reminderJobKey } from './reminder-plan.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { CalendarRepository, type CalendarEvent, type Reminder } from './calendar.repository.js';
import type { PageRequest } from '../../../../libs/common/src/util/keyset-page.js';

const DAY = 24 * 3600_000;

export interface CalendarEventInput {
  title: string;
  rule?: string | null;
  timezone?: string;
  startLocal: string;
  durationMinutes?: number;
  attendeeUserIds?: string[];
  reminderOffsetsMinutes?: number[];
}

export class CalendarEventNotFoundError extends Error {
  constructor(id: string) {
    super(`calendar event ${id} was not found`);
    this.name = 'CalendarEventNotFoundError';
  }
}

/**
 * Calendar events and their reminders. Each reminder is a one-off job
 * (recurrence.reminder) planned in the outbox for its exact instant in the same
 * transaction as the reminder row; moving or deleting the event bumps its
 * revision and cancels the rows, so a job that fires for an old revision sends
 * nothing.
 */
@Injectable()
export class CalendarService {
  constructor(
    private readonly calendar: CalendarRepository,
    private readonly settings: SettingsRepository,
    private readonly enqueuer: JobEnqueuer,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
    private readonly limits: RecurrenceLimits,
  ) {}

  private async resolve(companyId: string, input: CalendarEventInput, id: string): Promise<Omit<CalendarEvent, 'revision'>> {
    const e = {
      id,
      companyId,
      title: input.title,
      rule: input.rule ?? null,
      timezone: input.timezone ?? (await this.settings.get(companyId)).timezone,
      zoneFromTenant: input.timezone === undefined,
      startLocal: input.startLocal,
      durationMinutes: input.durationMinutes ?? 60,
      attendeeUserIds: input.attendeeUserIds ?? [],
      reminderOffsetsMinutes: [...new Set(input.reminderOffsetsMinutes ?? [])],
    };
    const now = this.clock.now();
    this.limits.checkStart(e.rule ?? 'one-time event', e.startLocal, e.timezone, now);
    await this.occurrences(e, now, (await this.settings.get(companyId)).horizonDays);
    return e;
  }

  /** Start instants of the event within [now, now + horizon + the longest offset). */
  private async occurrences(e: Omit<CalendarEvent, 'revision'>, from: Date, horizonDays: number): Promise<Date[]> {
    const lead = Math.max(0, ...e.reminderOffsetsMinutes) * 60_000;
    const to = new Date(from.getTime() + horizonDays * DAY + lead);
    if (!e.rule) {
      parseRecurrenceRule('FREQ=DAILY;COUNT=1', { timezone: e.timezone, start: e.startLocal });
      const at = localDateTimeToInstant(e.startLocal, e.timezone);
      return at >= from && at < to ? [at] : [];
    }
    return occurrencesInWindow(parseRecurrenceRule(e.rule, { timezone: e.timezone, start: e.startLocal }), from, to, horizonDays, this.limits.expansion);
  }

  async create(companyId: string, input: CalendarEventInput): Promise<CalendarEvent> {
    const draft = await this.resolve(companyId, input, randomUUID());
    return this.withReminders(async (tx) => {
      const { events } = await this.calendar.lockTenantCounts(companyId, tx);
      if (events >= this.limits.maxEvents) throw new TenantLimitError('calendar events', this.limits.maxEvents, 'RECURRENCE_MAX_EVENTS_PER_TENANT');
      return this.calendar.insert(draft, tx);
    });
  }

  async change(companyId: string, id: string, input: CalendarEventInput): Promise<CalendarEvent> {
    const draft = await this.resolve(companyId, input, id);
    return this.withReminders(async (tx) => {
      await this.calendar.lockTenantCounts(companyId, tx);
      const updated = await this.calendar.update(draft, tx);
      if (!updated) throw new CalendarEventNotFoundError(id);
      await this.calendar.cancelPlanned(id, tx);
      return updated;
    });
  }

  /** The tenant's timezone changed: events without a timezone of their own move to it and their reminders are planned anew. */
  async followTenantZone(companyId: string, timezone: string): Promise<number> {
    let moved = 0;
    const events: CalendarEvent[] = [];
    for (let after: PageRequest['after'] = null; ;) {
      const page = await this.calendar.list(companyId, { limit: 500, after });
      events.push(...page.items);
      if (!page.next) break;
      after = page.next;
    }
    for (const e of events) {
      if (!e.zoneFromTenant || e.timezone === timezone) continue;
      await this.change(companyId, e.id, {
        title: e.title,
        rule: e.rule,
        startLocal: e.startLocal,
        durationMinutes: e.durationMinutes,
        attendeeUserIds: e.attendeeUserIds,
        reminderOffsetsMinutes: e.reminderOffsetsMinutes,
      });
      moved++;
    }
    return moved;
  }

  async remove(companyId: string, id: string): Promise<void> {
    await this.calendar.transaction(async (tx) => {
      if (!(await this.calendar.markDeleted(companyId, id, tx))) throw new CalendarEventNotFoundError(id);
      await this.calendar.cancelPlanned(id, tx);
    });
  }

  /**
   * Runs the write (which takes the tenant's calendar lock), then plans its reminders and their jobs in
   * the same transaction; more planned reminders than the tenant's cap refuse the whole change.
   */
  private async withReminders(write: (tx: EntityManager) => Promise<CalendarEvent>): Promise<CalendarEvent> {
    const { event, publish } = await this.calendar.transaction(async (tx) => {
      const event = await write(tx);
      const { horizonDays } = await this.settings.get(event.companyId);
      const rows = await this.reminderRows(event, horizonDays);
      const { plannedReminders } = await this.calendar.lockTenantCounts(event.companyId, tx, event.id);
      if (plannedReminders + rows.length > this.limits.maxReminders) {
        throw new TenantLimitError('planned reminders', this.limits.maxReminders, 'RECURRENCE_MAX_REMINDERS_PER_TENANT');
      }
      const planned = await this.calendar.plan(tx, rows);
      const { publish } = await this.enqueuer.enqueueWithin(tx, planned.map((r) => this.reminderJob(r)));
      return { event, publish };
    });
    await publish();
    return event;
  }

  /** The generate job keeps recurring events' reminders planned up to the horizon. */
  async planAhead(companyId: string, horizonDays?: number): Promise<number> {
    const horizon = horizonDays ?? (await this.settings.get(companyId)).horizonDays;
    let planned = 0;
    for (const id of await this.calendar.liveIds(companyId)) {
      const { count, publish } = await this.calendar.transaction(async (tx) => {
        // The tenant's calendar lock before the event's row lock, in the order change() takes them.
        const { plannedReminders } = await this.calendar.lockTenantCounts(companyId, tx, id);
        const event = await this.calendar.getLocked(companyId, id, tx);
        if (!event) return { count: 0, publish: async () => {} };
        // Within the tenant's cap: the nearest reminders first, the rest when earlier ones have been sent.
        const room = Math.max(0, this.limits.maxReminders - plannedReminders);
        const rows = await this.calendar.plan(tx, (await this.reminderRows(event, horizon)).slice(0, room));
        const { publish } = await this.enqueuer.enqueueWithin(tx, rows.map((r) => this.reminderJob(r)));
        return { count: rows.length, publish };
      });
      await publish();
      planned += count;
    }
    return planned;
  }

  private async reminderRows(event: CalendarEvent, horizonDays: number): Promise<Omit<Reminder, 'state'>[]> {
    const now = this.clock.now();
    return planReminders(event, await this.occurrences(event, now, horizonDays), now);
  }

  private reminderJob(r: Reminder) {
    return {
      job: JOB_NAMES.recurrenceReminder,
      payload: { reminderId: r.id, revision: r.eventRevision },
      options: { companyId: r.companyId, runAt: r.dueAt, idempotencyKey: reminderJobKey(r), priority: 'high' as const },
    };
  }

  /** The recurrence.reminder job: publishes calendar.reminder_due unless the reminder was moved or cancelled. */
  async fire(companyId: string, reminderId: string, revision: number): Promise<boolean> {
    const claimed = await this.calendar.claim(companyId, reminderId, revision);
    if (!claimed) return false;
    try {
      await this.publisher.publishEvent(
        EVENT_TYPES.calendarReminderDue,
        companyId,
        {
          eventId: claimed.eventId,
          title: claimed.event.title,
          startsAt: claimed.occurrenceAt.toISOString(),
          occurrenceAt: claimed.occurrenceAt.toISOString(),
          attendeeUserIds: claimed.event.attendeeUserIds,
          offsetMinutes: claimed.offsetMinutes,
        },
        { id: reminderJobKey({ id: reminderId, eventRevision: revision }) },
      );
    } catch (e) {
      // Not published: give the claim back so the retry sends it.
      await this.calendar.unclaim(reminderId);
      throw e;
    }
    return true;
  }

  /**
   * The recurrence.cleanup job's calendar part: with the tenant's cleanupAfterDays
   * set, removes reminders sent or cancelled longer ago, events deleted longer
   * ago, and one-time events that ended longer ago. Recurring events stay.
   */
  async cleanup(companyId: string): Promise<number> {
    const { cleanupAfterDays } = await this.settings.get(companyId);
    if (!cleanupAfterDays) return 0;
    const before = new Date(this.clock.now().getTime() - cleanupAfterDays * DAY);
    const ended = (await this.calendar.oneTime(companyId))
      .filter((e) => localDateTimeToInstant(e.startLocal, e.timezone).getTime() + e.durationMinutes * 60_000 < before.getTime())
      .map((e) => e.id);
    return this.calendar.purge(companyId, before, ended);
  }

  get(companyId: string, id: string) {
    return this.calendar.get(companyId, id);
  }

  list(companyId: string, page: PageRequest) {
    return this.calendar.list(companyId, page);
  }

  reminders(companyId: string, eventId: string, page: PageRequest) {
    return this.calendar.reminders(companyId, eventId, page);
  }
}
