import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ProblemException } from '../http/problem-json.filter.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import { AuthGuard, type AuthedRequest } from './auth.guard.js';
import { Authorize } from './authorize.decorator.js';
import { CredentialError, type CredentialVerifier } from './credential-verifier.js';
import type { Principal } from './principal.js';

@Controller()
class Routes {
  @Get() @Authorize('read') read() {}
  @Get() @Authorize('platform') platform() {}
  @Get() @Authorize('inbox') inbox() {}
  @Get() undeclared() {}
}

const PRINCIPALS: Record<string, Principal> = {
  admin: { id: 'root', role: 'system-admin', companyId: null, kind: 'jwt', expiresAt: null },
  service: { id: 'api-key:ci', role: 'service', companyId: null, kind: 'api-key', expiresAt: null },
  boundService: { id: 'api-key:acme', role: 'service', companyId: 'acme', kind: 'api-key', expiresAt: null },
  tenantAdmin: { id: 'ann', role: 'tenant-admin', companyId: 'acme', kind: 'jwt', expiresAt: null },
  user: { id: 'uma', role: 'user', companyId: 'acme', kind: 'jwt', expiresAt: null },
};

const verifier = {
  verifyJwt: async (t: string) => {
    if (!PRINCIPALS[t]) throw new CredentialError('The bearer token is invalid');
    return PRINCIPALS[t];
  },
  verifyApiKey: (k: string) => {
    if (!PRINCIPALS[k]) throw new CredentialError('The API key is not valid');
    return PRINCIPALS[k];
  },
} as unknown as CredentialVerifier;

class FakeLimiter {
  taken: string[] = [];
  over = new Set<string>();
  refusedLocally = (key: string) => (this.over.has(key) ? 7 : 0);
  take = async (key: string) => {
    this.taken.push(key);
    return this.over.has(key) ? 3 : 0;
  };
}

async function call(route: keyof Routes, headers: Record<string, string>, limiter = new FakeLimiter()) {
  const guard = new AuthGuard(new Reflector(), verifier, limiter as unknown as RateLimiter, 'documents');
  const req = { headers, ip: '10.0.0.9', socket: {} } as unknown as AuthedRequest;
  const resHeaders: Record<string, string> = {};
  const res = { setHeader: (k: string, v: string) => (resHeaders[k] = v) };
  const ctx = new ExecutionContextHost([req, res], Routes, Routes.prototype[route] as never);
  ctx.setType('http');
  try {
    await guard.canActivate(ctx);
    return { status: 200, principal: req.principal, resHeaders, limiter };
  } catch (e) {
    if (!(e instanceof ProblemException)) throw e;
    return { status: e.getStatus(), detail: (e.getResponse() as { detail: string }).detail, resHeaders, limiter };
  }
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('AuthGuard', () => {
  it('401 without credentials or with a bad one, counted against the client IP', async () => {
    const none = await call('read', {});
    expect(none).toMatchObject({ status: 401, resHeaders: { 'WWW-Authenticate': 'Bearer' } });
    expect(none.limiter.taken).toEqual(['documents:ip:10.0.0.9']);
    expect(await call('read', bearer('forged'))).toMatchObject({ status: 401, detail: 'The bearer token is invalid' });
    expect(await call('read', { authorization: 'Basic abc' })).toMatchObject({ status: 401 });
    expect(await call('read', { 'x-api-key': 'nope' })).toMatchObject({ status: 401 });
    expect(await call('read', { 'x-api-key': 'service', authorization: 'Bearer admin' })).toMatchObject({ status: 401 });
  });

  it('counts a verified caller against its principal, and answers 429 with Retry-After over the limit', async () => {
    const ok = await call('read', bearer('admin'));
    expect(ok.limiter.taken).toEqual(['documents:jwt:root']);
    const limiter = new FakeLimiter();
    limiter.over.add('documents:jwt:root');
    expect(await call('read', bearer('admin'), limiter)).toMatchObject({ status: 429, resHeaders: { 'Retry-After': '3' } });
    // An address known to be over its limit is refused before its credential is even looked at.
    const flooded = new FakeLimiter();
    flooded.over.add('documents:ip:10.0.0.9');
    expect(await call('read', bearer('admin'), flooded)).toMatchObject({ status: 429, resHeaders: { 'Retry-After': '7' } });
    expect(flooded.taken).toEqual([]);
  });

  it('refuses a route without a declared permission and roles without the permission', async () => {
    expect(await call('undeclared', bearer('admin'))).toMatchObject({ status: 403 });
    expect(await call('platform', bearer('tenantAdmin'))).toMatchObject({ status: 403 });
    expect(await call('read', bearer('user'))).toMatchObject({ status: 403 });
    expect(await call('inbox', bearer('admin'))).toMatchObject({ status: 403 });
    expect(await call('inbox', bearer('user'))).toMatchObject({ status: 200 });
  });

  it('obeys X-Act-For-Company only for platform credentials not bound to a tenant', async () => {
    expect((await call('read', { ...bearer('admin'), 'x-act-for-company': 'globex' })).principal).toMatchObject({ role: 'system-admin', actingFor: 'globex' });
    expect((await call('read', { 'x-api-key': 'service', 'x-act-for-company': 'globex' })).principal).toMatchObject({ actingFor: 'globex' });
    expect(await call('read', { 'x-api-key': 'boundService', 'x-act-for-company': 'globex' })).toMatchObject({ status: 403 });
    expect(await call('read', { ...bearer('tenantAdmin'), 'x-act-for-company': 'globex' })).toMatchObject({ status: 403 });
    expect(await call('inbox', { ...bearer('user'), 'x-act-for-company': 'globex' })).toMatchObject({ status: 403 });
    // Naming one's own tenant changes nothing.
    expect((await call('read', { ...bearer('tenantAdmin'), 'x-act-for-company': 'acme' })).principal).toEqual(PRINCIPALS.tenantAdmin);
    expect(await call('read', { ...bearer('admin'), 'x-act-for-company': 'not a tenant' })).toMatchObject({ status: 400 });
  });

  it('never reads a tenant or user from X-Company-Id or X-User-Id', async () => {
    const r = await call('read', { ...bearer('tenantAdmin'), 'x-company-id': 'globex', 'x-user-id': 'victim' });
    expect(r.principal).toEqual(PRINCIPALS.tenantAdmin);
  });
});
