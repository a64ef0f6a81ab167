import { Injectable } from '@nestjs/common';
import { CleanupJobPayload, GenerateJobPayload, JOB_NAMES, JobHandler, PermanentError, ReminderJobPayload, TaskReminderJobPayload, type JobContext, type RunResult } from '../../../libs/common/src/index.js';
import { CalendarService } from './calendar/calendar.service.js';
import { TaskRemindersService } from './tasks/task-reminders.service.js';
import { TasksService } from './tasks/tasks.service.js';

/** The run's tenant; a payload that names another one is refused (tenants never mix). */
function tenantOf(ctx: JobContext<object | undefined>): string {
  if (!ctx.companyId) throw new PermanentError(`${ctx.job} runs per tenant: the run carries no companyId`);
  const named = (ctx.payload as { companyId?: unknown } | undefined)?.companyId;
  if (named !== undefined && named !== ctx.companyId) {
    throw new PermanentError(`payload companyId "${String(named)}" does not match the run's tenant "${ctx.companyId}"`);
  }
  return ctx.companyId;
}

/** Recurrence's jobs: decode, call one service method, report what was done. */
@Injectable()
export class RecurrenceJobs {
  constructor(
    private readonly tasks: TasksService,
    private readonly calendar: CalendarService,
    private readonly taskReminders: TaskRemindersService,
  ) {}

  @JobHandler(JOB_NAMES.recurrenceGenerate, { payload: GenerateJobPayload, maxAttempts: 5, timeoutMs: 300_000, tenantConcurrency: 1 })
  async generate(ctx: JobContext<GenerateJobPayload>): Promise<RunResult> {
    const companyId = tenantOf(ctx);
    const { created, skipped } = await this.tasks.generateForTenant(companyId, ctx.payload?.horizonDays);
    const reminders = await this.calendar.planAhead(companyId, ctx.payload?.horizonDays);
    const message = `${created} task instances, ${reminders} reminders planned` + (skipped.length ? `; skipped ${skipped.join('; ')}` : '');
    return { status: 'success', recordsProcessed: created + reminders, message };
  }

  @JobHandler(JOB_NAMES.recurrenceReminder, { payload: ReminderJobPayload, priority: 'high', maxAttempts: 10, timeoutMs: 30_000 })
  async reminder(ctx: JobContext<ReminderJobPayload>): Promise<RunResult> {
    const sent = await this.calendar.fire(tenantOf(ctx), ctx.payload.reminderId, ctx.payload.revision);
    return { status: 'success', recordsProcessed: sent ? 1 : 0, message: sent ? 'reminder sent' : 'reminder moved or cancelled: nothing sent' };
  }

  @JobHandler(JOB_NAMES.recurrenceTaskReminder, { payload: TaskReminderJobPayload, priority: 'high', maxAttempts: 10, timeoutMs: 30_000 })
  async taskReminder(ctx: JobContext<TaskReminderJobPayload>): Promise<RunResult> {
    const sent = await this.taskReminders.fire(tenantOf(ctx), ctx.payload.reminderId, ctx.payload.plan);
    return { status: 'success', recordsProcessed: sent ? 1 : 0, message: sent ? 'task reminder sent' : 'task done, moved or re-planned: nothing sent' };
  }

  @JobHandler(JOB_NAMES.recurrenceCleanup, { payload: CleanupJobPayload, priority: 'low' })
  async cleanup(ctx: JobContext<CleanupJobPayload>): Promise<RunResult> {
    const companyId = tenantOf(ctx);
    const instances = await this.tasks.cleanup(companyId);
    const calendar = await this.calendar.cleanup(companyId);
    return { status: 'success', recordsProcessed: instances + calendar, message: `${instances} task instances, ${calendar} calendar rows removed` };
  }
}
