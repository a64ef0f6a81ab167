import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { SERVICE_NAME } from '../logging/logging.module.js';
import { problems } from '../http/problems.js';
import { RateLimiter } from '../http/rate-limiter.js';
import { CredentialError, CredentialVerifier } from './credential-verifier.js';
import { can, PLATFORM_ROLES, type Permission, type Principal } from './principal.js';

export const PERMISSION_KEY = 'metronome:permission';

/** The one way a platform credential (system-admin, unbound service) names the tenant it acts for. */
export const ACT_FOR_HEADER = 'x-act-for-company';

export type AuthedRequest = Request & { principal?: Principal };

const COMPANY_ID = /^[A-Za-z0-9_-]{1,100}$/;

const FORBIDDEN: Record<Permission, (role: string) => string> = {
  read: (role) => `Your role (${role}) may not read this`,
  write: (role) => `Your role (${role}) may not change this`,
  platform: (role) => `Only a system-admin may do this (your role: ${role})`,
  inbox: (role) => `Notifications belong to one user: use a user token (sub and companyId), not a ${role} credential`,
};
const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]{1,8192})$/i;

/**
 * Every service's HTTP authentication: verifies the bearer JWT or X-Api-Key (never a token from the URL),
 * rate-limits (per client IP until a credential is verified, then per principal), resolves
 * X-Act-For-Company, and checks the route's permission. A route without a declared permission is refused:
 * nothing is open by accident. The tenant comes only from the verified credential (or, for platform
 * credentials, X-Act-For-Company); X-Company-Id or any other header naming a tenant is never read.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: CredentialVerifier,
    private readonly limiter: RateLimiter,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, [context.getHandler(), context.getClass()]);
    const ipKey = `${this.service}:ip:${req.ip ?? req.socket?.remoteAddress ?? 'unknown'}`;
    // An address already over its limit is turned away before any verification work.
    this.refuse(this.limiter.refusedLocally(ipKey), res);
    let principal: Principal;
    try {
      principal = await this.authenticate(req);
    } catch (e) {
      if (!(e instanceof CredentialError)) throw e;
      this.refuse(await this.limiter.take(ipKey), res);
      res.setHeader('WWW-Authenticate', e instanceof MissingCredential ? 'Bearer' : 'Bearer error="invalid_token"');
      throw problems.unauthorized(e instanceof MissingCredential ? undefined : e.message);
    }
    this.refuse(await this.limiter.take(`${this.service}:${principal.kind}:${principal.id}`), res);
    req.principal = actingFor(principal, req.headers[ACT_FOR_HEADER]);
    if (!permission) throw problems.forbidden('This route declares no permission, so nobody may use it');
    if (!can(principal, permission)) throw problems.forbidden(FORBIDDEN[permission](principal.role));
    return true;
  }

  private async authenticate(req: Request): Promise<Principal> {
    const apiKey = req.headers['x-api-key'];
    const authorization = req.headers.authorization;
    if (typeof apiKey === 'string' && apiKey !== '') {
      if (authorization) throw new CredentialError('Send either a bearer token or an API key, not both');
      return this.verifier.verifyApiKey(apiKey);
    }
    if (authorization) {
      const bearer = BEARER.exec(authorization);
      if (!bearer) throw new CredentialError('The Authorization header must be "Bearer <token>"');
      return this.verifier.verifyJwt(bearer[1]);
    }
    throw new MissingCredential('no credential');
  }

  private refuse(wait: number, res: Response): void {
    if (wait <= 0) return;
    res.setHeader('Retry-After', String(wait));
    throw problems.tooMany(wait);
  }
}

class MissingCredential extends CredentialError {}

/**
 * X-Act-For-Company: obeyed only for platform credentials not bound to a tenant (system-admin, an unbound
 * service key or token), which then see and change what that tenant would. A tenant-bound credential naming
 * another tenant is refused (403); naming its own is harmless and ignored.
 */
function actingFor(principal: Principal, header: string | string[] | undefined): Principal {
  if (header === undefined) return principal;
  if (typeof header !== 'string' || !COMPANY_ID.test(header)) throw problems.badRequest('X-Act-For-Company must be one companyId (letters, digits, _ and -)');
  if (principal.companyId !== null) {
    if (header === principal.companyId) return principal;
    throw problems.forbidden('X-Act-For-Company is honoured only for system-admin and service credentials not bound to a tenant');
  }
  if (!PLATFORM_ROLES.includes(principal.role)) throw problems.forbidden('X-Act-For-Company is honoured only for system-admin and service credentials');
  return { ...principal, actingFor: header };
}
