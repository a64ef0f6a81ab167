import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { DemoSeeder } from './demo-seeder.js';

@Module({ imports: [SchedulesModule], providers: [DemoSeeder] })
export class DemoModule {}
