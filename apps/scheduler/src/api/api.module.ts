import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DemoModule } from '../demo/demo.module.js';
import { BodyLimits } from '../http/body-limits.js';
import { OpenApiController } from '../http/openapi.controller.js';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { ControlStore } from './control/control.store.js';
import { DlqController } from './dlq/dlq.controller.js';
import { DlqRepository } from './dlq/dlq.repository.js';
import { DlqService } from './dlq/dlq.service.js';
import { JobAccess } from './job-access.js';
import { JobsController } from './jobs/jobs.controller.js';
import { JobsRepository } from './jobs/jobs.repository.js';
import { JobsService } from './jobs/jobs.service.js';
import { MailboxController } from './mailbox/mailbox.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsRepository } from './metrics/metrics.repository.js';
import { RunsController } from './runs/runs.controller.js';
import { RunsRepository } from './runs/runs.repository.js';
import { RunsService } from './runs/runs.service.js';
import { SchedulesApiService } from './schedules/schedules-api.service.js';
import { SchedulesController } from './schedules/schedules.controller.js';
import { TenantsApiService } from './tenants/tenants-api.service.js';
import { TenantsController } from './tenants/tenants.controller.js';
import { TenantsModule } from '../tenants/tenants.module.js';

import { StatsController } from './stats/stats.controller.js';
import { QueueEmptyRepository } from './queues/queue-empty.repository.js';
import { QueueEmptyService } from './queues/queue-empty.service.js';
import { RunActionsRepository } from './runs/run-actions.repository.js';
import { RunActionsService } from './runs/run-actions.service.js';
import { WorkersController } from './workers/workers.controller.js';
import { WorkersService } from './workers/workers.service.js';
import { StatsModule } from '../stats/stats.module.js';

/** The admin REST API under /api/v1, its OpenAPI document and UI, and the request limits. */
@Module({
  imports: [AuditModule, SchedulesModule, TenantsModule, DemoModule, StatsModule],
  controllers: [JobsController, RunsController, DlqController, SchedulesController, TenantsController, MetricsController, MailboxController, StatsController, WorkersController, OpenApiController],
  providers: [BodyLimits, ControlStore, JobAccess, JobsRepository, JobsService, RunsRepository, RunsService, DlqRepository, DlqService, MetricsRepository, SchedulesApiService, TenantsApiService,
    RunActionsRepository, RunActionsService, QueueEmptyRepository, QueueEmptyService, WorkersService],
})
export class ApiModule {}
