import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { RetentionJobs } from './retention.jobs.js';
import { RetentionRepository } from './retention.repository.js';
import { RetentionService } from './retention.service.js';
import { RunHistoryRetentionRepository } from './run-history-retention.repository.js';

@Module({
  imports: [SchedulesModule],
  providers: [RetentionJobs, RetentionService, RetentionRepository, RunHistoryRetentionRepository],
  exports: [RetentionService],
})
export class RetentionModule {}
