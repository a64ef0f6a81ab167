import { parseApiKeys, sha256Hex } from './api-keys.js';

const parse = (raw: string, production = false) => {
  const problems: string[] = [];
  const keys = parseApiKeys(raw, production, problems);
  return { keys, problems };
};

describe('parseApiKeys', () => {
  it('keeps only the digest of a plain key, with the defaults: service role, no tenant, no expiry', () => {
    const { keys, problems } = parse('ci=svc-key-0123456789');
    expect(problems).toEqual([]);
    expect(keys).toEqual([{ name: 'ci', digest: sha256Hex('svc-key-0123456789'), role: 'service', companyId: null, expiresAt: null }]);
    expect(JSON.stringify(keys)).not.toContain('svc-key-0123456789');
  });

  it('reads a digest with role, company and expiry', () => {
    const digest = sha256Hex('acme-reporting-key-0001');
    const { keys, problems } = parse(`reports=sha256:${digest.toUpperCase()};role=tenant-admin;company=acme;expires=2027-01-01`);
    expect(problems).toEqual([]);
    expect(keys[0]).toEqual({ name: 'reports', digest, role: 'tenant-admin', companyId: 'acme', expiresAt: new Date('2027-01-01T00:00:00Z') });
  });

  it('binds a service key to a tenant when it names one, and names bare keys keyN', () => {
    const { keys } = parse('bare-key-0123456789abcdef, bound=another-key-0123456789;company=globex');
    expect(keys.map((k) => [k.name, k.role, k.companyId])).toEqual([['key1', 'service', null], ['bound', 'service', 'globex']]);
  });

  it('refuses plain keys in production, short keys, tenant roles without a company, bound system-admins, the user role and junk', () => {
    const digest = sha256Hex('x'.repeat(20));
    expect(parse('ci=svc-key-0123456789', true).problems.join()).toMatch(/store the key's SHA-256/);
    expect(parse(`ci=sha256:${digest}`, true).problems).toEqual([]);
    expect(parse('ci=short').problems.join()).toMatch(/at least 16/);
    expect(parse('v=svc-key-0123456789;role=viewer').problems.join()).toMatch(/needs company/);
    expect(parse('a=svc-key-0123456789;role=system-admin;company=acme').problems.join()).toMatch(/not bound to a company/);
    expect(parse('u=svc-key-0123456789;role=user;company=acme').problems.join()).toMatch(/role must be/);
    expect(parse('e=svc-key-0123456789;expires=soon').problems.join()).toMatch(/expires/);
    expect(parse('c=svc-key-0123456789;company=a.b').problems.join()).toMatch(/company/);
    expect(parse('x=svc-key-0123456789;colour=blue').problems.join()).toMatch(/unknown attribute/);
    expect(parse('a=svc-key-0123456789,a=svc-key-9876543210').problems.join()).toMatch(/twice/);
    expect(parse('a=svc-key-0123456789,b=svc-key-0123456789').problems.join()).toMatch(/same key/);
  });

  it('never puts a key into a problem', () => {
    const { problems } = parse('ci=plain-secret-0123456789;role=viewer', false);
    expect(problems.join()).not.toContain('plain-secret');
    expect(parse('ci=plain-secret-0123456789', true).problems.join()).not.toContain('plain-secret');
  });
});
