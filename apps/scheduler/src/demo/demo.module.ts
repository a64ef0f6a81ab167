import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { DemoSeeder } from './demo-seeder.js';
import { DemoToken } from './demo-token.js';

@Module({ imports: [SchedulesModule], providers: [DemoSeeder, DemoToken] })
export class DemoModule {}
