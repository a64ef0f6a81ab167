import { applyDecorators, createParamDecorator, SetMetadata, UseFilters, UseGuards, UsePipes, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiHeader, ApiSecurity, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ProblemJsonFilter, problemValidationPipe } from '../http/problem-json.filter.js';
import { problems } from '../http/problems.js';
import { AuthGuard, PERMISSION_KEY, type AuthedRequest } from './auth.guard.js';
import { tenantScope, type Permission, type Principal } from './principal.js';

export const PUBLIC_KEY = 'metronome:public';

/**
 * On every API controller of every service: authentication (AuthGuard), problem+json errors, strict
 * validation of every input. Each route then declares its permission with @Authorize.
 */
export function SecuredApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(AuthGuard),
    UseFilters(ProblemJsonFilter),
    UsePipes(problemValidationPipe()),
    ApiBearerAuth(),
    ApiSecurity('apiKey'),
    ApiHeader({ name: 'X-Act-For-Company', required: false, description: 'system-admin and unbound service credentials: the tenant to act for' }),
    ApiUnauthorizedResponse({ description: 'No or invalid credentials (problem+json)' }),
    ApiForbiddenResponse({ description: 'The role may not do this (problem+json)' }),
    ApiTooManyRequestsResponse({ description: 'Rate limited (problem+json, Retry-After)' }),
  );
}

/** The permission a route needs (read, write, platform or inbox). Routes without one are refused. */
export const Authorize = (permission: Permission) => SetMetadata(PERMISSION_KEY, permission);

/**
 * Marks a controller or route as deliberately open (health, metrics, static assets, API docs). Startup
 * refuses any HTTP route that is neither @SecuredApi nor @Public (RouteAudit).
 */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

function principalOf(ctx: ExecutionContext, what: string): Principal {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new Error(`${what} used on a route without SecuredApi`);
  return principal;
}

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => principalOf(ctx, 'CurrentPrincipal'));

/** Who made a change, for the audit log. */
export const Actor = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const principal = principalOf(ctx, 'Actor');
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  const requestId = req.headers['x-request-id'];
  return { principal, ip: req.ip ?? null, requestId: typeof requestId === 'string' ? requestId.slice(0, 100) : null };
});

/** The tenant a route about one tenant acts on, and who acts. */
export interface TenantContext {
  companyId: string;
  /** `sub` of the token, or `api-key:<name>`. */
  userId: string;
}

/**
 * The caller's tenant, from the verified credential only: a tenant-bound credential's own companyId, or the
 * X-Act-For-Company of a platform credential (400 tenant-required when a platform credential names none).
 */
export const Tenant = createParamDecorator((_: unknown, ctx: ExecutionContext): TenantContext => {
  const principal = principalOf(ctx, 'Tenant');
  const companyId = tenantScope(principal);
  if (companyId === null) throw problems.tenantRequired();
  return { companyId, userId: principal.id };
});
