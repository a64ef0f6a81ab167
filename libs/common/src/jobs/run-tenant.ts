import { PermanentError } from '../messaging/errors.js';
import type { JobContext } from './job-handler.decorator.js';

/** A tenant job whose payload names another tenant than its run: dead-lettered, never retried. */
export class TenantMismatchError extends PermanentError {
  constructor(readonly job: string, readonly runTenant: string, readonly payloadTenant: string) {
    super(`${job}: the payload names tenant "${payloadTenant.slice(0, 100)}" but the run belongs to "${runTenant}"; a tenant job acts inside its run's tenant only`);
    this.name = 'TenantMismatchError';
  }
}

/**
 * The tenant a tenant job acts for: the run's (ctx.companyId, from the job
 * message, which the admin API sets from the caller's credential). A run
 * without a tenant, or whose payload names another tenant, is refused as a
 * PermanentError (dead-lettered with the reason). Handlers of tenant jobs call
 * this first and scope everything they do by the result.
 */
export function runTenant(ctx: Pick<JobContext<unknown>, 'job' | 'companyId' | 'payload'>): string {
  if (!ctx.companyId) throw new PermanentError(`${ctx.job} runs per tenant: the run carries no companyId`);
  const payload = ctx.payload as Record<string, unknown> | null | undefined;
  const named = payload && typeof payload === 'object' ? payload.companyId : undefined;
  if (named !== undefined && named !== null && named !== ctx.companyId) throw new TenantMismatchError(ctx.job, ctx.companyId, String(named));
  return ctx.companyId;
}
