import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { PlatformSchedules } from './platform-schedules.js';

@Module({ imports: [SchedulesModule], providers: [PlatformSchedules] })
export class PlatformModule {}
