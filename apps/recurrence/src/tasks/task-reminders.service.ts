import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock, EVENT_TYPES, EventPublisher, JobEnqueuer, JOB_NAMES } from '../../../../libs/common/src/index.js';
import { planTaskReminders, reminderOffsets, taskReminderKey } from './task-reminder-plan.js';
import { TaskRemindersRepository, type TaskReminder } from './task-reminders.repository.js';
import type { TaskTemplate } from './tasks.types.js';

/**
 * Reminders before a task is due, per template offsets (`reminderOffsets`),
 * as calendar events have: each is a row and a one-off
 * `recurrence.task-reminder` job at its instant, planned in the transaction
 * that created (or reopened) the task. When it fires it publishes
 * `task.reminder_due` for the assignee — once, and only if the task is still
 * open or started and still due when it was planned for; completing,
 * cancelling or moving the task cancels it.
 */
@Injectable()
export class TaskRemindersService {
  constructor(
    private readonly reminders: TaskRemindersRepository,
    private readonly enqueuer: JobEnqueuer,
    private readonly publisher: EventPublisher,
    private readonly clock: Clock,
  ) {}

  /** Plans the template's reminders for these tasks inside `tx`; call the returned publish after the commit. */
  async planFor(tx: EntityManager, template: Pick<TaskTemplate, 'companyId' | 'reminderOffsets'>, tasks: { id: string; dueAt: Date }[]): Promise<() => Promise<void>> {
    if (template.reminderOffsets.length === 0 || tasks.length === 0) return async () => {};
    const rows = planTaskReminders(template.companyId, tasks, reminderOffsets(template.reminderOffsets), this.clock.now());
    const planned = await this.reminders.plan(tx, rows);
    const { publish } = await this.enqueuer.enqueueWithin(tx, planned.map((r) => this.job(r)));
    return publish;
  }

  cancelForTasks(companyId: string, taskIds: string[], tx?: EntityManager): Promise<number> {
    return this.reminders.cancelForTasks(companyId, taskIds, tx);
  }

  /** The recurrence.task-reminder job: publishes task.reminder_due unless the reminder is no longer current. */
  async fire(companyId: string, reminderId: string, plan: number): Promise<boolean> {
    const claimed = await this.reminders.claim(companyId, reminderId, plan);
    if (!claimed) return false;
    try {
      await this.publisher.publishEvent(
        EVENT_TYPES.taskReminderDue,
        companyId,
        {
          taskId: claimed.taskId,
          templateId: claimed.templateId,
          title: claimed.title,
          dueAt: claimed.taskDueAt.toISOString(),
          assigneeUserId: claimed.assigneeUserId,
          offset: claimed.offsetText,
        },
        { id: taskReminderKey(claimed) },
      );
    } catch (e) {
      await this.reminders.unclaim(companyId, reminderId, plan);
      throw e;
    }
    return true;
  }

  ofTask(companyId: string, taskId: string): Promise<TaskReminder[]> {
    return this.reminders.ofTask(companyId, taskId);
  }

  deleteFinishedBefore(companyId: string, before: Date): Promise<number> {
    return this.reminders.deleteFinishedBefore(companyId, before);
  }

  private job(r: TaskReminder) {
    return {
      job: JOB_NAMES.recurrenceTaskReminder,
      payload: { reminderId: r.id, plan: r.plan },
      options: { companyId: r.companyId, runAt: r.dueAt, idempotencyKey: taskReminderKey(r), priority: 'high' as const },
    };
  }
}
