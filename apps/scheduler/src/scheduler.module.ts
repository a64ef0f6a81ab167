import { Module } from '@nestjs/common';
import { CONSUMERS, consumerDeclaration, JOB_NAMES, JobEnqueuerModule, jobConsumerDeclarations, MetronomeScheduleModule, MetronomeServiceModule } from '../../../libs/common/src/index.js';
import { RetentionModule } from './retention/retention.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { SCHEDULER_ENTITIES } from './scheduler.entities.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { TickModule } from './tick/tick.module.js';
import { PlatformModule } from './platform/platform.module.js';
import { DemoModule } from './demo/demo.module.js';
import { ApiModule } from './api/api.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { ApiNotFoundModule } from './http/api-not-found.module.js';

@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: 'scheduler',
      consumers: [consumerDeclaration(CONSUMERS.schedulerEvents)],
      entities: SCHEDULER_ENTITIES,
      // The scheduler's own jobs run on the job runtime like every service's: run history, pause, cancel, dead letters (docs/jobs.md).
      jobs: { names: [JOB_NAMES.schedulerRetention], consumers: jobConsumerDeclarations('scheduler'), concurrency: 2 },
    }),
    JobEnqueuerModule,
    // The platform's own schedules are @Cron methods (PlatformSchedules, RetentionJobs), run once across replicas like any service's.
    MetronomeScheduleModule.forRoot(),
    SchedulesModule,
    TenantsModule,
    RetentionModule,
    TickModule,
    PlatformModule,
    DemoModule,
    // Control plane (admin API, dashboard); the /api 404 catch-all stays last.
    ApiModule,
    DashboardModule,
    ApiNotFoundModule,
  ],
})
export class SchedulerModule {}
