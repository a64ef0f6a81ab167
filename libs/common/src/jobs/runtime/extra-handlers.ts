import type { JobHandlerFn, JobHandlerOptions } from '../job-handler.decorator.js';

/**
 * Job handlers a module contributes besides @JobHandler declarations (the
 * methods MetronomeScheduleModule runs for @Cron/@Interval/@Timeout). The job
 * runtime treats them as declared jobs of the service: each needs exactly one
 * handler and a consumer at every priority, like any job.
 */
export const EXTRA_JOB_HANDLERS = Symbol('EXTRA_JOB_HANDLERS');

export interface ExtraJobHandler {
  job: string;
  options: JobHandlerOptions;
  fn: JobHandlerFn;
  /** `Class.method`, for start-up messages. */
  owner: string;
}

export interface ExtraJobHandlers {
  /** Called once, when the runtime registers handlers (onModuleInit); throws to refuse the start. */
  handlers(): ExtraJobHandler[];
}
