import { Module } from '@nestjs/common';
import { FiringService } from '../firing/firing.service.js';
import { TenantsRepository } from '../tenants/tenants.repository.js';
import { ScheduleEventsConsumer } from './schedule-events.consumer.js';
import { ScheduleRegistry } from './schedule-registry.js';
import { ScheduleStoreModule } from '../../../../libs/common/src/schedule/schedule-store.module.js';
import { SchedulesService } from './schedules.service.js';

/** Schedules, tenants, the claim loop and event triggers. */
@Module({
  imports: [ScheduleStoreModule],
  controllers: [ScheduleEventsConsumer],
  providers: [SchedulesService, ScheduleRegistry, FiringService, TenantsRepository],
  exports: [ScheduleStoreModule, SchedulesService, ScheduleRegistry, FiringService, TenantsRepository],
})
export class SchedulesModule {}
