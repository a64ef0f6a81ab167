import { Injectable } from '@nestjs/common';
import { ExpiryScanAllJob, ExpiryScanJob, JOB_NAMES, JobHandler, PermanentError, type JobContext, type RunResult } from '../../../../libs/common/src/index.js';
import { ExpiryService } from './expiry.service.js';

/**
 * Documents' expiry jobs on the job runtime (docs/jobs.md): the scheduler's
 * per-tenant JobMessage { runId, companyId, payload: { asOf? }, scheduledFor }
 * reaches these as ctx.runId / ctx.companyId / ctx.payload. Decode, call one
 * service method, report what was done.
 */
@Injectable()
export class ExpiryJobs {
  constructor(private readonly expiry: ExpiryService) {}

  /** One tenant's scan. Its idempotency key is the run id. */
  @JobHandler(JOB_NAMES.documentsExpiryScan, { payload: ExpiryScanJob, priority: 'normal', maxAttempts: 5, timeoutMs: 600_000, tenantConcurrency: 1 })
  async scan(ctx: JobContext<ExpiryScanJob>): Promise<RunResult> {
    if (!ctx.companyId) throw new PermanentError(`${ctx.job} runs per tenant: the run carries no companyId`);
    const asOf = ctx.payload?.asOf ? new Date(ctx.payload.asOf) : this.expiry.now();
    const s = await this.expiry.scan(ctx.companyId, asOf, ctx.runId, () => ctx.working());
    return {
      status: 'success',
      recordsProcessed: s.documentsRead,
      message: `${s.expiring} expiring, ${s.expired} expired, ${s.escalated} escalated, ${s.republished} republished`,
      data: { asOf: s.asOf, expiring: s.expiring, expired: s.expired, escalated: s.escalated, republished: s.republished },
    };
  }

  /** Fan-out to one scan run per tenant, at this run's priority. */
  @JobHandler(JOB_NAMES.documentsExpiryScanAll, { payload: ExpiryScanAllJob, priority: 'normal', maxAttempts: 5, timeoutMs: 600_000 })
  async scanAll(ctx: JobContext<ExpiryScanAllJob>): Promise<RunResult> {
    const asOf = ctx.payload?.asOf ? new Date(ctx.payload.asOf) : this.expiry.now();
    const tenants = await this.expiry.scanAll(asOf, ctx.runId, ctx.priority);
    return { status: 'success', recordsProcessed: tenants, message: `${tenants} tenant scans enqueued` };
  }
}
