import { Injectable } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { JOB_NAMES, JobHandler, MetronomeJob, PermanentError, type JobContext, type RunResult } from '../../../../libs/common/src/index.js';
import { RetentionService } from './retention.service.js';

/**
 * The scheduler's own daily job on the job runtime: decode, purge, report what
 * went. Declared with @Cron like any service's schedule (MetronomeScheduleModule):
 * daily at 03:17 UTC, as the schedule `metronome.retention`.
 */
@Injectable()
export class RetentionJobs {
  constructor(private readonly retention: RetentionService) {}

  @Cron('17 3 * * *', { name: 'retention', timeZone: 'UTC' })
  @MetronomeJob({ schedule: 'metronome.retention', description: 'Retention: run history, audit log, notifications and deliveries, dead letters; per-job policies first' })
  @JobHandler(JOB_NAMES.schedulerRetention, { priority: 'low', maxAttempts: 3, timeoutMs: 30 * 60_000, concurrency: 1 })
  async purge(ctx: JobContext): Promise<RunResult> {
    // It deletes every tenant's old rows: a run started for one tenant is refused, not run platform-wide.
    if (ctx.companyId) throw new PermanentError(`${ctx.job} is a platform job: a run for tenant "${ctx.companyId}" is refused`);
    const report = await this.retention.purge(ctx.runId, ctx.signal);
    const { jobs, partitionsDropped, ...platform } = report;
    const total = Object.values(platform).reduce((a, b) => a + b, 0) + jobs.reduce((a, j) => a + j.runs + j.steps + j.deadLetters, 0);
    return {
      status: 'success',
      recordsProcessed: total,
      message: Object.entries(platform).map(([k, v]) => `${v} ${k}`).join(', ') + ` (${partitionsDropped} history partitions dropped); ${jobs.length} per-job policies applied`,
      data: report,
    };
  }
}
