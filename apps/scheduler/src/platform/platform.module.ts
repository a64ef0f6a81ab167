import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { PlatformSchedules } from './platform-schedules.js';
import { SchedulerJobs } from './scheduler-jobs.js';

@Module({ imports: [SchedulesModule], providers: [PlatformSchedules, SchedulerJobs] })
export class PlatformModule {}
