import { Module } from '@nestjs/common';
import { CONSUMERS, consumerDeclaration, JOB_NAMES, JobEnqueuerModule, jobConsumerDeclarations, MetronomeServiceModule } from '../../../libs/common/src/index.js';
import { CalendarRepository } from './calendar/calendar.repository.js';
import { CalendarService } from './calendar/calendar.service.js';
import { RecurrenceController } from './http/recurrence.controller.js';
import { RecurrenceLimits } from './limits/recurrence-limits.js';
import { MembersConsumer } from './members/members.consumer.js';
import { MembersRepository } from './members/members.repository.js';
import { RECURRENCE_ENTITIES } from './recurrence.entities.js';
import { RecurrenceJobs } from './recurrence.jobs.js';
import { SettingsRepository } from './settings/settings.repository.js';
import { TasksRepository } from './tasks/tasks.repository.js';
import { TasksService } from './tasks/tasks.service.js';
import { TaskRemindersRepository } from './tasks/task-reminders.repository.js';
import { TaskRemindersService } from './tasks/task-reminders.service.js';
import { TenantsConsumer } from './tenants/tenants.consumer.js';
import { TenantZoneRepository } from './tenants/tenant-zone.repository.js';
import { TenantZoneService } from './tenants/tenant-zone.service.js';

@Module({
  imports: [
    MetronomeServiceModule.forService({
      service: 'recurrence',
      consumers: [consumerDeclaration(CONSUMERS.recurrenceEvents)],
      entities: RECURRENCE_ENTITIES,
      jobs: {
        names: [JOB_NAMES.recurrenceGenerate, JOB_NAMES.recurrenceReminder, JOB_NAMES.recurrenceTaskReminder, JOB_NAMES.recurrenceCleanup],
        consumers: jobConsumerDeclarations('recurrence'),
        concurrency: 16,
      },
    }),
    JobEnqueuerModule,
  ],
  controllers: [RecurrenceController, MembersConsumer, TenantsConsumer],
  providers: [MembersRepository, TasksRepository, TasksService, TaskRemindersRepository, TaskRemindersService, CalendarRepository, CalendarService, SettingsRepository, RecurrenceJobs, RecurrenceLimits, TenantZoneRepository, TenantZoneService],
})
export class RecurrenceModule {}
