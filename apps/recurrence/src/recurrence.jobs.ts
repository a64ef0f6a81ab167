import { Injectable } from '@nestjs/common';
import { CleanupJobPayload, GenerateJobPayload, JOB_NAMES, JobHandler, ReminderJobPayload, runTenant, TaskReminderJobPayload, TimeOverrides, type JobContext, type RunResult } from '../../../libs/common/src/index.js';
import { CalendarService } from './calendar/calendar.service.js';
import { TaskRemindersService } from './tasks/task-reminders.service.js';
import { TasksService } from './tasks/tasks.service.js';

/** Payload fields that would replace the clock; none of these jobs honours one, so outside tests they are refused, not ignored. */
const TIME_FIELDS = ['asOf'] as const;

/** Recurrence's jobs: decode, call one service method, report what was done. */
@Injectable()
export class RecurrenceJobs {
  constructor(
    private readonly tasks: TasksService,
    private readonly calendar: CalendarService,
    private readonly overrides: TimeOverrides,
    private readonly taskReminders: TaskRemindersService,
  ) {}

  /** The run's tenant (a payload naming another is dead-lettered); a payload choosing the time is refused. */
  private tenantOf(ctx: JobContext<object | undefined>): string {
    const companyId = runTenant(ctx);
    this.overrides.check(ctx, TIME_FIELDS);
    return companyId;
  }

  @JobHandler(JOB_NAMES.recurrenceGenerate, { payload: GenerateJobPayload, maxAttempts: 5, timeoutMs: 300_000, tenantConcurrency: 1, tenantSchedulable: true })
  async generate(ctx: JobContext<GenerateJobPayload>): Promise<RunResult> {
    const companyId = this.tenantOf(ctx);
    const { created, skipped } = await this.tasks.generateForTenant(companyId, ctx.payload?.horizonDays);
    const reminders = await this.calendar.planAhead(companyId, ctx.payload?.horizonDays);
    const message = `${created} task instances, ${reminders} reminders planned` + (skipped.length ? `; skipped ${skipped.join('; ')}` : '');
    return { status: 'success', recordsProcessed: created + reminders, message };
  }

  @JobHandler(JOB_NAMES.recurrenceReminder, { payload: ReminderJobPayload, priority: 'high', maxAttempts: 10, timeoutMs: 30_000 })
  async reminder(ctx: JobContext<ReminderJobPayload>): Promise<RunResult> {
    const sent = await this.calendar.fire(this.tenantOf(ctx), ctx.payload.reminderId, ctx.payload.revision);
    return { status: 'success', recordsProcessed: sent ? 1 : 0, message: sent ? 'reminder sent' : 'reminder moved or cancelled: nothing sent' };
  }

  @JobHandler(JOB_NAMES.recurrenceTaskReminder, { payload: TaskReminderJobPayload, priority: 'high', maxAttempts: 10, timeoutMs: 30_000 })
  async taskReminder(ctx: JobContext<TaskReminderJobPayload>): Promise<RunResult> {
    const sent = await this.taskReminders.fire(this.tenantOf(ctx), ctx.payload.reminderId, ctx.payload.plan);
    return { status: 'success', recordsProcessed: sent ? 1 : 0, message: sent ? 'task reminder sent' : 'task done, moved or re-planned: nothing sent' };
  }

  @JobHandler(JOB_NAMES.recurrenceCleanup, { payload: CleanupJobPayload, priority: 'low', tenantSchedulable: true })
  async cleanup(ctx: JobContext<CleanupJobPayload>): Promise<RunResult> {
    const companyId = this.tenantOf(ctx);
    const instances = await this.tasks.cleanup(companyId);
    const calendar = await this.calendar.cleanup(companyId);
    return { status: 'success', recordsProcessed: instances + calendar, message: `${instances} task instances, ${calendar} calendar rows removed` };
  }
}
