import { applyDecorators, createParamDecorator, SetMetadata, UseFilters, UseGuards, UsePipes, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ProblemJsonFilter, problemValidationPipe } from '../../../../libs/common/src/http/problem-json.filter.js';
import { AuthGuard, PERMISSION_KEY, type AuthedRequest } from './auth.guard.js';
import type { Permission, Principal } from './principal.js';

/** On an admin API controller: authentication, problem+json errors, strict validation of every input. */
export function AdminApi(): ClassDecorator {
  return applyDecorators(
    UseGuards(AuthGuard),
    UseFilters(ProblemJsonFilter),
    UsePipes(problemValidationPipe()),
    ApiBearerAuth(),
    ApiSecurity('apiKey'),
    ApiUnauthorizedResponse({ description: 'No or invalid credentials (problem+json)' }),
    ApiForbiddenResponse({ description: 'The role may not do this (problem+json)' }),
    ApiTooManyRequestsResponse({ description: 'Rate limited (problem+json, Retry-After)' }),
  );
}

/** The permission a route needs (read, write or platform). Routes without one are refused. */
export const Authorize = (permission: Permission) => SetMetadata(PERMISSION_KEY, permission);

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without AdminApi');
  return principal;
});

/** Who made a change, for the audit log. */
export const Actor = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.principal) throw new Error('Actor used on a route without AdminApi');
  const requestId = req.headers['x-request-id'];
  return { principal: req.principal, ip: req.ip ?? null, requestId: typeof requestId === 'string' ? requestId.slice(0, 100) : null };
});
