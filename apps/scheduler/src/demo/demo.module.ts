import { Module } from '@nestjs/common';
import { JobEnqueuerModule } from '../../../../libs/common/src/index.js';
import { SchedulesModule } from '../schedules/schedules.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { DemoSeeder } from './demo-seeder.js';
import { DemoToken } from './demo-token.js';
import { DemoMailbox } from './mailbox/demo-mailbox.js';

@Module({ imports: [SchedulesModule, TenantsModule, JobEnqueuerModule], providers: [DemoSeeder, DemoToken, DemoMailbox], exports: [DemoMailbox] })
export class DemoModule {}
