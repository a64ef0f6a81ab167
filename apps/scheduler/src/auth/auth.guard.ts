import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { problems } from '../http/problems.js';
import { RateLimiter } from '../http/rate-limiter.js';
import { CredentialError, CredentialVerifier } from './credential-verifier.js';
import { can, type Permission, type Principal } from './principal.js';

export const PERMISSION_KEY = 'metronome:permission';

export type AuthedRequest = Request & { principal?: Principal };

/**
 * Authenticates (bearer JWT or X-Api-Key), rate-limits per principal (per IP
 * before authentication) and checks the route's permission. A route without a
 * declared permission is refused: nothing is open by accident.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: CredentialVerifier,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, [context.getHandler(), context.getClass()]);
    const ip = req.ip ?? req.socket?.remoteAddress ?? 'unknown';
    const authorization = req.headers.authorization;
    const apiKey = req.headers['x-api-key'];
    let principal: Principal;
    try {
      if (typeof apiKey === 'string' && apiKey !== '') principal = this.verifier.verifyApiKey(apiKey);
      else if (authorization && /^Bearer\s+\S+$/i.test(authorization)) principal = await this.verifier.verifyJwt(authorization.replace(/^Bearer\s+/i, ''));
      else {
        this.limit(`ip:${ip}`, res);
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw problems.unauthorized();
      }
    } catch (e) {
      if (!(e instanceof CredentialError)) throw e;
      this.limit(`ip:${ip}`, res);
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw problems.unauthorized(e.message);
    }
    this.limit(`${principal.kind}:${principal.id}`, res);
    req.principal = principal;
    if (!permission || !can(principal, permission)) throw problems.forbidden();
    return true;
  }

  private limit(key: string, res: Response): void {
    const wait = this.limiter.take(key);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw problems.tooMany(wait);
    }
  }
}
