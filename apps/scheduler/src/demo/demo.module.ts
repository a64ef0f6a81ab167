import { Module } from '@nestjs/common';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { DemoSeeder } from './demo-seeder.js';
import { DemoMailbox } from './mailbox/demo-mailbox.js';

@Module({ imports: [SchedulesModule], providers: [DemoSeeder, DemoMailbox], exports: [DemoMailbox] })
export class DemoModule {}
