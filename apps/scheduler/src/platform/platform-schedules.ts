import { Injectable } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { JOB_NAMES, MetronomeJob } from '../../../../libs/common/src/index.js';

/**
 * The platform's own recurring work, declared with @nestjs/schedule's @Cron
 * like any service's (MetronomeScheduleModule stores and fires each once):
 * each tenant's weekly digest (Monday 08:00) and monthly report (the 1st,
 * 08:00), and its recurring-task generation ahead of time (the look-ahead) and
 * cleanup at night, in the tenant's own time zone (ARCHITECTURE.md: a job
 * covering all tenants fans out to one run per tenant). Their handlers live in
 * notifier and recurrence, so each method names its job (@MetronomeJob({ job }))
 * and only declares the schedule; the scheduler declares them so that they
 * exist wherever the scheduler runs. Retention (run history, outbox, audit
 * log) is the scheduler's own @Cron job (RetentionJobs); each tenant's
 * document expiry scan runs at its own hour: a schedule of that tenant
 * (TenantSchedules).
 */
@Injectable()
export class PlatformSchedules {
  @Cron('0 8 * * 1', { name: 'notifier-weekly-digest' })
  @MetronomeJob({
    schedule: 'platform.notifier-weekly-digest',
    job: JOB_NAMES.notifierWeeklyDigest,
    perTenant: true,
    priority: 'low',
    description: "Each tenant's weekly digest to its tenant admins, Monday 08:00 tenant time",
  })
  weeklyDigest(): void {}

  @Cron('0 8 1 * *', { name: 'notifier-monthly-report' })
  @MetronomeJob({
    schedule: 'platform.notifier-monthly-report',
    job: JOB_NAMES.notifierMonthlyReport,
    perTenant: true,
    priority: 'low',
    description: "Each tenant's monthly compliance report to its tenant admins, the 1st at 08:00 tenant time",
  })
  monthlyReport(): void {}

  @Cron('0 1 * * *', { name: 'recurrence-generate' })
  @MetronomeJob({
    schedule: 'platform.recurrence-generate',
    job: JOB_NAMES.recurrenceGenerate,
    perTenant: true,
    description: "Each tenant's recurring task instances and calendar reminders up to its horizon, nightly",
  })
  recurrenceGenerate(): void {}

  @Cron('30 3 * * *', { name: 'recurrence-cleanup' })
  @MetronomeJob({
    schedule: 'platform.recurrence-cleanup',
    job: JOB_NAMES.recurrenceCleanup,
    perTenant: true,
    priority: 'low',
    description: "Each tenant's finished tasks older than its cleanup setting, nightly",
  })
  recurrenceCleanup(): void {}
}
