import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { APP_CONFIG, assertSubjectToken, type AppConfig } from '../../../../libs/common/src/index.js';
import { ROLES, type Principal, type Role } from './principal.js';

/** Signs demo tokens when DEMO=true and no JWT_SECRET is configured. Never used otherwise. */
export const DEMO_JWT_SECRET = 'metronome-demo-secret-do-not-use-in-production';

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Why a credential was refused; the message is safe to show (no internals). */
export class CredentialError extends Error {}

interface ApiKey {
  name: string;
  digest: Buffer;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Parses API_KEYS: comma-separated `name=key`, `name=sha256:<hex digest of the key>`
 * or a bare key. Only digests are kept in memory and compared in constant time.
 */
export function parseApiKeys(entries: string[]): ApiKey[] {
  return entries.map((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq) : `key${i + 1}`;
    const value = eq > 0 ? entry.slice(eq + 1) : entry;
    const digest = /^sha256:[0-9a-f]{64}$/i.test(value) ? Buffer.from(value.slice(7), 'hex') : sha256(value);
    return { name, digest };
  });
}

/** Verifies bearer JWTs (HS256 with JWT_SECRET, or asymmetric keys from JWKS_URL) and API keys. */
@Injectable()
export class CredentialVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly apiKeys: ApiKey[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const secret = config.auth.jwtSecret ?? (config.demo ? DEMO_JWT_SECRET : undefined);
    if (secret) this.secret = new TextEncoder().encode(secret);
    if (config.auth.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    this.apiKeys = parseApiKeys(config.auth.apiKeys);
  }

  get usesDemoSecret(): boolean {
    return this.secret !== undefined && new TextDecoder().decode(this.secret) === DEMO_JWT_SECRET;
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
        ({ payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'], clockTolerance: 5 }));
      } else if (alg && ASYMMETRIC.includes(alg) && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, { algorithms: ASYMMETRIC, requiredClaims: ['sub', 'exp'], clockTolerance: 5 }));
      } else {
        throw new CredentialError('The bearer token uses an algorithm this server does not accept');
      }
    } catch (e) {
      if (e instanceof CredentialError) throw e;
      const code = (e as { code?: string }).code;
      throw new CredentialError(code === 'ERR_JWT_EXPIRED' ? 'The bearer token has expired' : 'The bearer token is invalid');
    }
    return principalOf(payload);
  }

  verifyApiKey(key: string): Principal {
    const digest = sha256(key);
    let found: ApiKey | undefined;
    for (const k of this.apiKeys) if (timingSafeEqual(k.digest, digest)) found = k;
    if (!found) throw new CredentialError('The API key is not valid');
    return { id: `api-key:${found.name}`, role: 'service', companyId: null, kind: 'api-key' };
  }

  /** A token for the dashboard and tests; needs a shared secret (JWT_SECRET or the DEMO secret). */
  async sign(claims: { sub: string; role: Role; companyId?: string }, ttlSeconds = 12 * 3600): Promise<string> {
    if (!this.secret) throw new Error('no JWT secret configured');
    return new SignJWT({ role: claims.role, ...(claims.companyId ? { companyId: claims.companyId } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.secret);
  }
}

/** Claims: `sub`, `role` (or the first known entry of `roles`), `companyId` (or `company_id`). */
function principalOf(payload: JWTPayload): Principal {
  const roles = Array.isArray(payload.roles) ? payload.roles : [payload.role];
  const role = (['system-admin', 'tenant-admin', 'viewer'] as Role[]).find((r) => roles.includes(r));
  if (!role || !ROLES.includes(role)) throw new CredentialError('The bearer token carries no known role');
  const companyRaw = payload.companyId ?? payload.company_id;
  const companyId = typeof companyRaw === 'string' && companyRaw !== '' ? companyRaw : null;
  if (role !== 'system-admin') {
    if (!companyId) throw new CredentialError('The bearer token has no companyId for its tenant role');
    try {
      assertSubjectToken(companyId, 'companyId');
    } catch {
      throw new CredentialError('The bearer token has an invalid companyId');
    }
  }
  return { id: String(payload.sub), role, companyId: role === 'system-admin' ? null : companyId, kind: 'jwt' };
}
