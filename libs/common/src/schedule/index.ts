/** Schedules stored in Postgres, and @nestjs/schedule's decorators run once across replicas (docs/scheduler.md). */
export * from './schedule.types.js';
export * from './schedule-timing.js';
export * from './schedules.repository.js';
export * from './schedule-definitions.js';
export * from './schedule-store.module.js';
export * from './run-options.js';
export * from './nest-schedule-metadata.js';
export * from './metronome-job.decorator.js';
export * from './scheduled-declaration.js';
export * from './scheduled-context.js';
export * from './scheduled-methods.js';
export * from './metronome-scheduler-registry.js';
export * from './metronome-scheduler.js';
export * from './metronome-schedule.module.js';
