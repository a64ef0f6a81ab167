import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JobCatalog, JOB_NAMES } from '../../../../libs/common/src/index.js';

/**
 * The scheduler's own jobs, served by @OnMessage consumers rather than the job
 * runtime, declared in the job catalog like every handler's: run history
 * retention covers every tenant, so it is a platform job.
 */
@Injectable()
export class SchedulerJobs implements OnModuleInit {
  constructor(private readonly catalog: JobCatalog) {}

  onModuleInit(): void {
    this.catalog.announce([{ name: JOB_NAMES.schedulerRetention, priority: 'low', maxAttempts: 3, timeoutMs: 10 * 60_000 }], () => ({ platform: true }));
  }
}
