import { createParamDecorator, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling: the tenant every query is scoped to, and the user acting in it. */
export interface TenantContext {
  companyId: string;
  userId: string;
}

export const COMPANY_HEADER = 'x-company-id';
export const USER_HEADER = 'x-user-id';
const COMPANY_ID = /^[A-Za-z0-9_-]{1,100}$/;

type TenantRequest = Request & { tenant?: TenantContext };

/**
 * Tenant scoping for the HTTP API, in one place: for now the caller names its
 * tenant and user in X-Company-Id and X-User-Id; JWT verification will replace
 * the header reading here and nowhere else.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<TenantRequest>();
    const companyId = req.header(COMPANY_HEADER)?.trim();
    const userId = req.header(USER_HEADER)?.trim();
    if (!companyId || !COMPANY_ID.test(companyId)) {
      throw new UnauthorizedException('X-Company-Id must name the tenant (letters, digits, _ and -)');
    }
    if (!userId || userId.length > 200) throw new UnauthorizedException('X-User-Id must name the calling user');
    req.tenant = { companyId, userId };
    return true;
  }
}

/** The caller's tenant, set by TenantGuard. */
export const Tenant = createParamDecorator((_: unknown, context: ExecutionContext): TenantContext => {
  const tenant = context.switchToHttp().getRequest<TenantRequest>().tenant;
  if (!tenant) throw new UnauthorizedException('no tenant: TenantGuard must run first');
  return tenant;
});
