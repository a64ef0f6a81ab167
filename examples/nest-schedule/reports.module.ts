import { Module } from '@nestjs/common';
import { jobConsumerDeclarations, MetronomeScheduleModule, MetronomeServiceModule } from '../../libs/common/src/index.js';
import { ReportRunsRepository } from './report-runs.repository.js';
import { ReportsService } from './reports.service.js';

export const REPORTS_SERVICE = 'reports';

/**
 * A service with @Cron/@Interval/@Timeout methods. The one change from a plain
 * @nestjs/schedule service is the import: MetronomeScheduleModule.forRoot()
 * instead of ScheduleModule.forRoot(). The job runtime (`jobs`) takes the
 * methods' runs from the `reports-jobs-<priority>` consumers.
 */
@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: REPORTS_SERVICE,
      consumers: [],
      entities: [],
      jobs: { names: [], consumers: jobConsumerDeclarations(REPORTS_SERVICE) },
    }),
    MetronomeScheduleModule.forRoot(), // was: ScheduleModule.forRoot()
  ],
  providers: [ReportsService, ReportRunsRepository],
})
export class ReportsModule {}
