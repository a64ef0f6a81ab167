import { problems } from '../http/problems.js';
import { tenantScope, type Principal } from '../../../../libs/common/src/auth/index.js';

/**
 * The tenant a query is limited to: a tenant-scoped caller always gets its own
 * (asking for another tenant finds nothing: 404 on detail routes, empty lists);
 * a platform caller gets the tenant it asked for, or every tenant.
 */
export function effectiveTenant(principal: Principal, requested?: string): { scope: string | null; foreign: boolean } {
  const own = tenantScope(principal);
  if (own === null) return { scope: requested ?? null, foreign: false };
  return { scope: own, foreign: requested !== undefined && requested !== own };
}

/** For writes naming a tenant: a tenant-scoped caller may only name its own (another is "not found"). */
export function writeTenant(principal: Principal, requested: string | undefined, what = 'Tenant'): string | undefined {
  const own = tenantScope(principal);
  if (own === null) return requested;
  if (requested !== undefined && requested !== own) throw problems.notFound(what);
  return own;
}
