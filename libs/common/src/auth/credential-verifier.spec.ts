import { generateKeyPair, SignJWT, UnsecuredJWT, exportJWK } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256Hex } from '../config/api-keys.js';
import { loadConfig } from '../config/load-config.js';
import { CredentialError, CredentialVerifier } from './credential-verifier.js';

const SECRET = 'unit-test-secret-0123456789abcdef-xyz';
const key = new TextEncoder().encode(SECRET);

const verifier = (env: Record<string, string> = {}) => new CredentialVerifier(loadConfig({ JWT_SECRET: SECRET, ...env }));

function hs(claims: Record<string, unknown>, opts: { exp?: number; iat?: number; alg?: string; secret?: Uint8Array; sub?: string | null } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' });
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'someone');
  if (opts.iat !== undefined) jwt.setIssuedAt(opts.iat);
  if (opts.exp !== undefined) jwt.setExpirationTime(opts.exp);
  else jwt.setExpirationTime(now + 600);
  return jwt.sign(opts.secret ?? key);
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CredentialError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('CredentialVerifier: JWT', () => {
  it('reads each role with its tenant; a system-admin is never bound to one', async () => {
    const v = verifier();
    await expect(v.verifyJwt(await hs({ role: 'tenant-admin', companyId: 'acme' }))).resolves.toMatchObject({ id: 'someone', role: 'tenant-admin', companyId: 'acme', kind: 'jwt' });
    await expect(v.verifyJwt(await hs({ role: 'user', company_id: 'acme' }))).resolves.toMatchObject({ role: 'user', companyId: 'acme' });
    await expect(v.verifyJwt(await hs({ roles: ['viewer', 'system-admin'], companyId: 'acme' }))).resolves.toMatchObject({ role: 'system-admin', companyId: null });
    await expect(v.verifyJwt(await hs({ role: 'service' }))).resolves.toMatchObject({ role: 'service', companyId: null });
    const p = await v.verifyJwt(await hs({ role: 'viewer', companyId: 'acme' }, { exp: 2_000_000_000 }));
    expect(p.expiresAt).toEqual(new Date(2_000_000_000_000));
  });

  it('refuses tenant roles without a valid companyId, unknown roles and a missing sub', async () => {
    const v = verifier();
    expect(await refusal(v.verifyJwt(await hs({ role: 'user' })))).toMatch(/no companyId/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'viewer', companyId: 'a.b' })))).toMatch(/invalid companyId/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'root' })))).toMatch(/no known role/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { sub: null })))).toMatch(/"sub"/);
  });

  it('refuses alg none, HS512, another secret, an expired token, a token without exp and a tampered payload', async () => {
    const v = verifier();
    const none = new UnsecuredJWT({ role: 'system-admin' }).setSubject('x').setExpirationTime('1h').encode();
    expect(await refusal(v.verifyJwt(none))).toMatch(/algorithm/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { alg: 'HS512' })))).toMatch(/algorithm/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { secret: new TextEncoder().encode('another-secret-0123456789abcdef-xyz') })))).toMatch(/invalid/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { exp: Math.floor(Date.now() / 1000) - 60 })))).toMatch(/expired/);
    const noExp = await new SignJWT({ role: 'system-admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(key);
    expect(await refusal(v.verifyJwt(noExp))).toMatch(/"exp"/);
    const [h, , s] = (await hs({ role: 'viewer', companyId: 'acme' })).split('.');
    const forged = Buffer.from(JSON.stringify({ role: 'system-admin', sub: 'x', exp: 2_000_000_000 })).toString('base64url');
    expect(await refusal(v.verifyJwt(`${h}.${forged}.${s}`))).toMatch(/invalid/);
    expect(await refusal(v.verifyJwt('not-a-jwt'))).toMatch(/malformed/);
  });

  it('checks iss and aud when configured', async () => {
    const v = verifier({ JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'metronome,other' });
    const good = await new SignJWT({ role: 'viewer', companyId: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('https://idp.example').setAudience('metronome').setExpirationTime('5m').sign(key);
    await expect(v.verifyJwt(good)).resolves.toMatchObject({ role: 'viewer' });
    const wrongIss = await new SignJWT({ role: 'viewer', companyId: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('https://evil.example').setAudience('metronome').setExpirationTime('5m').sign(key);
    expect(await refusal(v.verifyJwt(wrongIss))).toMatch(/"iss"/);
    const noAud = await new SignJWT({ role: 'viewer', companyId: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('https://idp.example').setExpirationTime('5m').sign(key);
    expect(await refusal(v.verifyJwt(noAud))).toMatch(/"aud"/);
    // Its own tokens carry what it checks.
    await expect(v.verifyJwt(await v.sign({ sub: 'demo', role: 'system-admin' }))).resolves.toMatchObject({ id: 'demo' });
  });

  it('with JWT_MAX_LIFETIME_S requires iat and refuses longer-lived or future-issued tokens', async () => {
    const v = verifier({ JWT_MAX_LIFETIME_S: '3600' });
    const now = Math.floor(Date.now() / 1000);
    await expect(v.verifyJwt(await hs({ role: 'system-admin' }, { iat: now, exp: now + 3600 }))).resolves.toMatchObject({ role: 'system-admin' });
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { exp: now + 600 })))).toMatch(/"iat"/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { iat: now, exp: now + 3601 })))).toMatch(/longer than 3600/);
    expect(await refusal(v.verifyJwt(await hs({ role: 'system-admin' }, { iat: now + 600, exp: now + 1200 })))).toMatch(/future|iat/);
    // Tokens it signs itself are cut to the maximum.
    const signed = await v.sign({ sub: 'demo', role: 'system-admin' }, 12 * 3600);
    await expect(v.verifyJwt(signed)).resolves.toMatchObject({ id: 'demo' });
  });

  it('verifies asymmetric tokens only against JWKS_URL, and never an HS256 token signed with the public key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const server: Server = createServer((_, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
      const v = new CredentialVerifier(loadConfig({ JWKS_URL: url }));
      const es = await new SignJWT({ role: 'tenant-admin', companyId: 'acme' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('x').setExpirationTime('5m').sign(privateKey);
      await expect(v.verifyJwt(es)).resolves.toMatchObject({ role: 'tenant-admin', companyId: 'acme' });
      // No JWT_SECRET: HS256 is not accepted at all, whatever it was signed with.
      const confused = await new SignJWT({ role: 'system-admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime('5m').sign(new TextEncoder().encode(JSON.stringify(jwk)));
      expect(await refusal(v.verifyJwt(confused))).toMatch(/algorithm/);
    } finally {
      server.close();
    }
  });
});

describe('CredentialVerifier: API keys', () => {
  it('finds a key by its digest with its role and tenant, and refuses unknown and expired keys', () => {
    const v = verifier({
      API_KEYS: `ci=svc-key-0123456789,acme=sha256:${sha256Hex('acme-key-0123456789')};role=viewer;company=acme,old=old-key-0123456789;expires=2020-01-01`,
    });
    expect(v.verifyApiKey('svc-key-0123456789')).toMatchObject({ id: 'api-key:ci', role: 'service', companyId: null, kind: 'api-key' });
    expect(v.verifyApiKey('acme-key-0123456789')).toMatchObject({ id: 'api-key:acme', role: 'viewer', companyId: 'acme' });
    expect(() => v.verifyApiKey('svc-key-012345678')).toThrow(/not valid/);
    expect(() => v.verifyApiKey('old-key-0123456789')).toThrow(/expired/);
  });
});
