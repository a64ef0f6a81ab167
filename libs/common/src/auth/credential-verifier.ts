import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { ApiKeyConfig } from '../config/api-keys.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { demoSecret } from './demo-secret.js';
import { ROLES, type Principal, type Role } from './principal.js';

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_S = 5;
const COMPANY_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** The most privileged role wins when a token lists several. */
const ROLE_ORDER: readonly Role[] = ROLES;

/** Why a credential was refused; the message is safe to show (no internals). */
export class CredentialError extends Error {}

interface ApiKey extends ApiKeyConfig {
  digestBytes: Buffer;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Verifies bearer JWTs and API keys for every service.
 * - JWT: HS256 only with JWT_SECRET (or DEMO's generated secret), asymmetric algorithms only with the keys of
 *   JWKS_URL, so one can never be verified as the other; `sub` and `exp` required; `iss`/`aud` when
 *   JWT_ISSUER/JWT_AUDIENCE are set; with JWT_MAX_LIFETIME_S, `iat` is required and exp - iat may not exceed it.
 * - API key: SHA-256 of the presented key compared with every configured digest in constant time.
 */
@Injectable()
export class CredentialVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly apiKeys: ApiKey[];
  private readonly checks: Pick<JWTVerifyOptions, 'issuer' | 'audience' | 'requiredClaims' | 'clockTolerance'>;
  private readonly maxLifetime?: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const secret = config.auth.jwtSecret ?? (config.demo ? demoSecret(config.auth.demoTokenFile) : undefined);
    if (secret) this.secret = new TextEncoder().encode(secret);
    if (config.auth.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    this.apiKeys = config.auth.apiKeys.map((k) => ({ ...k, digestBytes: Buffer.from(k.digest, 'hex') }));
    this.maxLifetime = config.auth.maxLifetimeSeconds;
    this.checks = {
      issuer: config.auth.issuer,
      audience: config.auth.audience?.length ? config.auth.audience : undefined,
      requiredClaims: ['sub', 'exp', ...(this.maxLifetime ? ['iat'] : [])],
      clockTolerance: CLOCK_TOLERANCE_S,
    };
  }

  async verifyJwt(token: string): Promise<Principal> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new CredentialError('The bearer token is malformed');
    }
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.secret) {
        ({ payload } = await jwtVerify(token, this.secret, { ...this.checks, algorithms: ['HS256'] }));
      } else if (alg && ASYMMETRIC.includes(alg) && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...this.checks, algorithms: ASYMMETRIC }));
      } else {
        throw new CredentialError('The bearer token uses an algorithm this server does not accept');
      }
    } catch (e) {
      if (e instanceof CredentialError) throw e;
      const code = (e as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new CredentialError('The bearer token has expired');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw new CredentialError(`The bearer token's "${(e as { claim?: string }).claim}" claim is missing or not accepted`);
      throw new CredentialError('The bearer token is invalid');
    }
    if (this.maxLifetime) {
      const iat = payload.iat!;
      if (iat > Date.now() / 1000 + CLOCK_TOLERANCE_S) throw new CredentialError('The bearer token was issued in the future');
      if (payload.exp! - iat > this.maxLifetime) throw new CredentialError(`The bearer token lives longer than ${this.maxLifetime} s`);
    }
    return principalOf(payload);
  }

  verifyApiKey(key: string, now = new Date()): Principal {
    const digest = sha256(key);
    let found: ApiKey | undefined;
    // Every digest is compared (no early exit): the time taken does not say which key came close.
    for (const k of this.apiKeys) if (timingSafeEqual(k.digestBytes, digest)) found = k;
    if (!found) throw new CredentialError('The API key is not valid');
    if (found.expiresAt && found.expiresAt.getTime() <= now.getTime()) throw new CredentialError('The API key has expired');
    return { id: `api-key:${found.name}`, role: found.role, companyId: found.companyId, kind: 'api-key', expiresAt: found.expiresAt };
  }

  /** True when tokens can be signed here (JWT_SECRET or DEMO's secret). */
  get canSign(): boolean {
    return this.secret !== undefined;
  }

  /** A token for DEMO mode and the services' own calls; needs a shared secret (JWT_SECRET or DEMO's). */
  async sign(claims: { sub: string; role: Role; companyId?: string }, ttlSeconds = 12 * 3600): Promise<string> {
    if (!this.secret) throw new Error('no JWT secret configured');
    const ttl = Math.min(ttlSeconds, this.maxLifetime ?? ttlSeconds);
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ role: claims.role, ...(claims.companyId ? { companyId: claims.companyId } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl);
    if (this.checks.issuer) jwt.setIssuer(this.checks.issuer as string);
    if (this.checks.audience) jwt.setAudience(this.checks.audience);
    return jwt.sign(this.secret);
  }
}

/** Claims: `sub`, `role` (or the most privileged known entry of `roles`), `companyId` (or `company_id`). */
function principalOf(payload: JWTPayload): Principal {
  const roles = Array.isArray(payload.roles) ? payload.roles : [payload.role];
  const role = ROLE_ORDER.find((r) => roles.includes(r));
  if (!role) throw new CredentialError('The bearer token carries no known role');
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 200) throw new CredentialError('The bearer token has no usable "sub"');
  const companyRaw = payload.companyId ?? payload.company_id;
  const companyId = typeof companyRaw === 'string' && companyRaw !== '' ? companyRaw : null;
  if (companyId !== null && !COMPANY_ID.test(companyId)) throw new CredentialError('The bearer token has an invalid companyId');
  if (role !== 'system-admin' && role !== 'service' && companyId === null) throw new CredentialError(`The bearer token has no companyId for its ${role} role`);
  // A system-admin is never bound to a tenant (a home companyId an identity provider adds is ignored).
  return { id: payload.sub, role, companyId: role === 'system-admin' ? null : companyId, kind: 'jwt', expiresAt: new Date(payload.exp! * 1000) };
}
