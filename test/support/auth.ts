import { SignJWT } from 'jose';

/** The HS256 secret every test process configures as JWT_SECRET. */
export const TEST_JWT_SECRET = 'control-plane-test-secret-0123456789abcdef';

export type TestRole = 'system-admin' | 'service' | 'tenant-admin' | 'viewer' | 'user';

/** A token as an identity provider would issue it: sub, role, companyId (tenant roles), iat, exp. */
export async function testToken(role: TestRole, companyId?: string, opts: { expSeconds?: number; secret?: string; sub?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role, ...(companyId ? { companyId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.sub ?? `${role}-${companyId ?? 'all'}`)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expSeconds ?? 3600))
    .sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
}

/** Authorization header of a tenant-admin `userId` of `companyId` (none without a company: an anonymous call). */
export async function tenantAuth(companyId: string | undefined, userId = 'user-1'): Promise<Record<string, string>> {
  if (!companyId) return {};
  return { Authorization: `Bearer ${await testToken('tenant-admin', companyId, { sub: userId })}` };
}
