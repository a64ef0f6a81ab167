import { Global, Module } from '@nestjs/common';
import { ScheduleDefinitions } from './schedule-definitions.js';
import { SchedulesRepository } from './schedules.repository.js';

/**
 * The schedules table for any service: one SchedulesRepository and one
 * ScheduleDefinitions per process, shared by the scheduler's SchedulesModule
 * and by MetronomeScheduleModule (a service declaring its own schedules).
 * Needs a DataSource and a Clock (MetronomeServiceModule, JobEnqueuerModule).
 */
@Global()
@Module({
  providers: [SchedulesRepository, ScheduleDefinitions],
  exports: [SchedulesRepository, ScheduleDefinitions],
})
export class ScheduleStoreModule {}
