import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobEnqueuerModule } from '../jobs/job-enqueuer.js';
import { EXTRA_JOB_HANDLERS } from '../jobs/runtime/extra-handlers.js';
import { MetronomeScheduler } from './metronome-scheduler.js';
import { MetronomeSchedulerRegistry } from './metronome-scheduler-registry.js';
import { METRONOME_SCHEDULE_OPTIONS, ScheduledMethods, type MetronomeScheduleOptions } from './scheduled-methods.js';
import { ScheduleStoreModule } from './schedule-store.module.js';

/**
 * Import instead of `ScheduleModule.forRoot()`: the same `@Cron`, `@Interval`
 * and `@Timeout` (from @nestjs/schedule) run once per occurrence across every
 * replica, as Metronome jobs (retries, timeout, history, metrics, dashboard),
 * fired by the scheduler from schedules stored in Postgres (docs/scheduler.md).
 * The service runs MetronomeServiceModule with a job runtime (`jobs`), whose
 * consumers (`<service>-jobs-<priority>`) take the methods' runs.
 */
@Module({})
export class MetronomeScheduleModule {
  static forRoot(options: MetronomeScheduleOptions = {}): DynamicModule {
    return {
      module: MetronomeScheduleModule,
      global: true,
      imports: [DiscoveryModule, JobEnqueuerModule, ScheduleStoreModule],
      providers: [
        { provide: METRONOME_SCHEDULE_OPTIONS, useValue: options },
        ScheduledMethods,
        { provide: EXTRA_JOB_HANDLERS, useExisting: ScheduledMethods },
        MetronomeSchedulerRegistry,
        MetronomeScheduler,
      ],
      exports: [EXTRA_JOB_HANDLERS, ScheduledMethods, MetronomeSchedulerRegistry, MetronomeScheduler],
    };
  }
}
