import { Injectable } from '@nestjs/common';
import { ExpiryScanAllJob, ExpiryScanJob, JOB_NAMES, JobHandler, runTenant, TimeOverrides, type JobContext, type RunResult } from '../../../../libs/common/src/index.js';
import { ExpiryService } from './expiry.service.js';

/** Payload fields that would replace the scan's clock (honoured only with ALLOW_TIME_OVERRIDES, i.e. in tests). */
const TIME_FIELDS = ['asOf'] as const;

/**
 * Documents' expiry jobs on the job runtime (docs/jobs.md): the scheduler's
 * per-tenant JobMessage { runId, companyId, payload, scheduledFor } reaches
 * these as ctx.runId / ctx.companyId / ctx.payload. Decode, call one service
 * method, report what was done.
 */
@Injectable()
export class ExpiryJobs {
  constructor(
    private readonly expiry: ExpiryService,
    private readonly overrides: TimeOverrides,
  ) {}

  /** One tenant's scan, of the run's tenant only. Its idempotency key is the run id. */
  @JobHandler(JOB_NAMES.documentsExpiryScan, { payload: ExpiryScanJob, priority: 'normal', maxAttempts: 5, timeoutMs: 600_000, tenantConcurrency: 1, tenantSchedulable: true })
  async scan(ctx: JobContext<ExpiryScanJob>): Promise<RunResult> {
    const companyId = runTenant(ctx);
    this.overrides.check(ctx, TIME_FIELDS);
    const asOf = ctx.payload?.asOf ? new Date(ctx.payload.asOf) : this.expiry.now();
    const s = await this.expiry.scan(companyId, asOf, ctx.runId, () => ctx.working());
    return {
      status: 'success',
      recordsProcessed: s.documentsRead,
      message: `${s.expiring} expiring, ${s.expired} expired, ${s.escalated} escalated, ${s.republished} republished`,
      data: { asOf: s.asOf, expiring: s.expiring, expired: s.expired, escalated: s.escalated, republished: s.republished },
    };
  }

  /** Fan-out to one scan run per tenant, at this run's priority: a platform job (every tenant). */
  @JobHandler(JOB_NAMES.documentsExpiryScanAll, { payload: ExpiryScanAllJob, priority: 'normal', maxAttempts: 5, timeoutMs: 600_000, platform: true })
  async scanAll(ctx: JobContext<ExpiryScanAllJob>): Promise<RunResult> {
    this.overrides.check(ctx, TIME_FIELDS);
    // Children judge by their own clock unless this run was given an instant (tests).
    const asOf = ctx.payload?.asOf ? new Date(ctx.payload.asOf) : undefined;
    const tenants = await this.expiry.scanAll(asOf, ctx.runId, ctx.priority);
    return { status: 'success', recordsProcessed: tenants, message: `${tenants} tenant scans enqueued` };
  }
}
