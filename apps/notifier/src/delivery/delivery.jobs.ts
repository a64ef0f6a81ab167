import { Injectable } from '@nestjs/common';
import { Clock, DeliverJob, DigestJob, JOB_NAMES, JobHandler, runTenant, TimeOverrides, type JobContext, type RunResult } from '../../../../libs/common/src/index.js';
import { DeliveryService, type Attempt } from './delivery.service.js';

/** The run's tenant (a payload naming another is dead-lettered, tenants never mix) and its attempt. */
function attemptOf(ctx: JobContext<unknown>): Attempt {
  return { companyId: runTenant(ctx), runId: ctx.runId, attempt: ctx.attempt, maxAttempts: ctx.maxAttempts };
}

/** A digest's `period` chooses the time window instead of the clock: honoured only with ALLOW_TIME_OVERRIDES (tests). */
const DIGEST_TIME_FIELDS = ['period', 'asOf'] as const;

const DAY = 86_400_000;
const BACKOFF = { kind: 'exponential' as const, baseMs: 2_000, capMs: 600_000, jitter: 0.2 };

/** The notifier's jobs: one delivery, and the tenant digests. */
@Injectable()
export class DeliveryJobs {
  constructor(
    private readonly delivery: DeliveryService,
    private readonly clock: Clock,
    private readonly overrides: TimeOverrides,
  ) {}

  @JobHandler(JOB_NAMES.notifierDeliver, { payload: DeliverJob, maxAttempts: 8, backoff: BACKOFF, timeoutMs: 60_000 })
  async deliver(ctx: JobContext<DeliverJob>): Promise<RunResult> {
    const a = attemptOf(ctx);
    const p = ctx.payload;
    const outcome =
      p.channel === 'email'
        ? await this.delivery.email(a, p.notificationId!)
        : p.channel === 'push'
          ? await this.delivery.pushNotification(a, p.notificationId!)
          : await this.delivery.webhook(a, p.webhookId!, p.event!);
    return { status: 'success', recordsProcessed: outcome === 'sent' ? 1 : 0, message: outcome };
  }

  // Digests mail every admin of a tenant: registered per tenant by the platform, not schedulable by tenants.
  // A digest is a few queries and one mail per admin: one attempt running 2 min means SMTP or Postgres is struggling.
  @JobHandler(JOB_NAMES.notifierWeeklyDigest, { payload: DigestJob, priority: 'low', maxAttempts: 5, backoff: BACKOFF, timeoutMs: 300_000, sla: { maxDurationMs: 120_000 }, platform: true })
  async weekly(ctx: JobContext<DigestJob>): Promise<RunResult> {
    const a = attemptOf(ctx);
    this.overrides.check(ctx, DIGEST_TIME_FIELDS);
    const to = ctx.payload?.period ? new Date(ctx.payload.period.to) : this.clock.now();
    const from = ctx.payload?.period ? new Date(ctx.payload.period.from) : new Date(to.getTime() - 7 * DAY);
    const sent = await this.delivery.digest(a, 'weekly', from, to);
    return { status: 'success', recordsProcessed: sent, message: `${sent} digests sent` };
  }

  @JobHandler(JOB_NAMES.notifierMonthlyReport, { payload: DigestJob, priority: 'low', maxAttempts: 5, backoff: BACKOFF, timeoutMs: 300_000, sla: { maxDurationMs: 120_000 }, platform: true })
  async monthly(ctx: JobContext<DigestJob>): Promise<RunResult> {
    const a = attemptOf(ctx);
    this.overrides.check(ctx, DIGEST_TIME_FIELDS);
    const to = ctx.payload?.period ? new Date(ctx.payload.period.to) : this.clock.now();
    const from = ctx.payload?.period
      ? new Date(ctx.payload.period.from)
      : new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - 1, to.getUTCDate(), to.getUTCHours(), to.getUTCMinutes()));
    const sent = await this.delivery.digest(a, 'monthly', from, to);
    return { status: 'success', recordsProcessed: sent, message: `${sent} reports sent` };
  }
}
