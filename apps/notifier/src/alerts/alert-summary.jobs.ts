import { Injectable } from '@nestjs/common';
import { AlertSummaryJob, JOB_NAMES, JobHandler, PermanentError, type JobContext, type RunResult } from '../../../../libs/common/src/index.js';
import { AlertsService } from './alerts.service.js';

/** notifier.alert-summary: the end of a job alert's window, planned when the window opened. */
@Injectable()
export class AlertSummaryJobs {
  constructor(private readonly alerts: AlertsService) {}

  // Started 5 min after its window ended, the folded alerts are late: the notifier's queue is behind.
  @JobHandler(JOB_NAMES.notifierAlertSummary, {
    payload: AlertSummaryJob,
    priority: 'high',
    maxAttempts: 8,
    backoff: { kind: 'exponential', baseMs: 2_000, capMs: 300_000, jitter: 0.2 },
    timeoutMs: 60_000,
    sla: { maxLatenessMs: 5 * 60_000 },
  })
  async summarize(ctx: JobContext<AlertSummaryJob>): Promise<RunResult> {
    if (!ctx.companyId) throw new PermanentError(`${ctx.job} runs per scope: the run carries no companyId`);
    const folded = await this.alerts.summarize(ctx.companyId, ctx.payload.alertKey, new Date(ctx.payload.windowEndsAt));
    return { status: 'success', recordsProcessed: folded, message: folded ? `${folded} folded alerts summed up` : 'nothing folded' };
  }
}
