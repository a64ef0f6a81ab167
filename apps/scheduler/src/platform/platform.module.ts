import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { PlatformSchedules } from './platform-schedules.js';
import { SchedulerJobs } from './scheduler-jobs.js';
import { TenantSchedules } from './tenant-schedules.js';

@Module({ imports: [SchedulesModule], providers: [PlatformSchedules, SchedulerJobs, TenantSchedules], exports: [TenantSchedules] })
export class PlatformModule {}
