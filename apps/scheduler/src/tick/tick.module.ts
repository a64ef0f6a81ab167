import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { TickSchedule } from './tick.schedule.js';

@Module({ imports: [SchedulesModule], providers: [TickSchedule] })
export class TickModule {}
