import { Injectable } from '@nestjs/common';
import { JOB_NAMES, JobHandler, TickJob, type JobContext, type RunResult } from '../../../../libs/common/src/index.js';
import { TickService } from './tick.service.js';

/** The walking skeleton's job: decode, record the tick once per run, report it. */
@Injectable()
export class TickJobs {
  constructor(private readonly ticks: TickService) {}

  // The platform's heartbeat (a global interval schedule, no tenant): only platform administrators start it.
  @JobHandler(JOB_NAMES.documentsTick, { payload: TickJob, priority: 'normal', maxAttempts: 5, timeoutMs: 660_000, platform: true })
  async tick(ctx: JobContext<TickJob>): Promise<RunResult> {
    // The run id is the CloudEvent id and job_runs.id; the attempt is counted in job_runs, so a redelivery after a crash is attempt 2.
    const fresh = await this.ticks.recordTick(ctx.runId, ctx.scheduledFor ?? new Date(), ctx.attempt, ctx.payload?.workMs, ctx.signal);
    return { status: 'success', recordsProcessed: fresh ? 1 : 0, message: fresh ? 'tick recorded' : 'tick already recorded' };
  }
}
