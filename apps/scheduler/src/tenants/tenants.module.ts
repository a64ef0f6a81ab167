import { Module } from '@nestjs/common';
import { PlatformModule } from '../platform/platform.module.js';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { TenantSync } from './tenant-sync.js';
import { TenantsConsumer } from './tenants.consumer.js';
import { TenantsService } from './tenants.service.js';

/** The tenant registry: its service, its inbound events and its repair loop (the repository lives with the schedules, which read it on every claim). */
@Module({
  imports: [SchedulesModule, PlatformModule],
  controllers: [TenantsConsumer],
  providers: [TenantsService, TenantSync],
  exports: [TenantsService],
})
export class TenantsModule {}
