import { Module } from '@nestjs/common';
import { FiringService } from '../firing/firing.service.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { ScheduleEventsConsumer } from './schedule-events.consumer.js';
import { ScheduleRegistry } from './schedule-registry.js';
import { SchedulesRepository } from './schedules.repository.js';
import { SchedulesService } from './schedules.service.js';

/** Schedules, tenants, the claim loop and event triggers. */
@Module({
  controllers: [ScheduleEventsConsumer],
  providers: [SchedulesRepository, SchedulesService, ScheduleRegistry, FiringService, TenantsRepository],
  exports: [SchedulesService, SchedulesRepository, ScheduleRegistry, FiringService, TenantsRepository],
})
export class SchedulesModule {}
