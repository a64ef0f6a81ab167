import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JOB_NAMES } from '../../../../libs/common/src/index.js';
import { ScheduleRegistry } from '../schedules/schedule-registry.js';

/**
 * The platform's own recurring work, registered from code at start like any
 * service's schedules: each tenant's weekly digest (Monday 08:00) and monthly
 * report (the 1st, 08:00), and its
 * recurring-task generation and cleanup at night, in the tenant's own time zone (ARCHITECTURE.md: a job covering all tenants fans
 * out to one run per tenant). Each tenant's document expiry scan runs at its own
 * hour: it is a schedule of that tenant (TenantSchedules).
 */
@Injectable()
export class PlatformSchedules implements OnModuleInit {
  constructor(private readonly registry: ScheduleRegistry) {}

  async onModuleInit(): Promise<void> {
    await this.registry.registerCron('platform.notifier-weekly-digest', '0 8 * * 1', 'tenant', JOB_NAMES.notifierWeeklyDigest, {}, {
      scope: 'per_tenant',
      priority: 'low',
      description: "Each tenant's weekly digest to its tenant admins, Monday 08:00 tenant time",
    });
    await this.registry.registerCron('platform.notifier-monthly-report', '0 8 1 * *', 'tenant', JOB_NAMES.notifierMonthlyReport, {}, {
      scope: 'per_tenant',
      priority: 'low',
      description: "Each tenant's monthly compliance report to its tenant admins, the 1st at 08:00 tenant time",
    });
    await this.registry.registerCron('platform.recurrence-generate', '0 1 * * *', 'tenant', JOB_NAMES.recurrenceGenerate, {}, {
      scope: 'per_tenant',
      description: "Each tenant's recurring task instances and calendar reminders up to its horizon, nightly",
    });
    await this.registry.registerCron('platform.recurrence-cleanup', '30 3 * * *', 'tenant', JOB_NAMES.recurrenceCleanup, {}, {
      scope: 'per_tenant',
      priority: 'low',
      description: "Each tenant's finished tasks older than its cleanup setting, nightly",
    });
  }
}
