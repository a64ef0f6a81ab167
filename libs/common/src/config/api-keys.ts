import { createHash } from 'node:crypto';
import { ROLES, type Role } from '../auth/principal.js';

/** One API key as configured: only the SHA-256 digest of the key is kept. */
export interface ApiKeyConfig {
  name: string;
  /** SHA-256 of the key, hex. */
  digest: string;
  role: Exclude<Role, 'user'>;
  /** The tenant the key is bound to; null: a platform key (service or system-admin). */
  companyId: string | null;
  expiresAt: Date | null;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const TOKEN = /^[A-Za-z0-9_-]{1,100}$/;
const DIGEST = /^sha256:([0-9a-f]{64})$/i;
const TENANT_ROLES: readonly Role[] = ['tenant-admin', 'viewer'];
const MIN_PLAIN_KEY_LENGTH = 16;

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * API_KEYS: comma-separated entries `name=<key>[;role=<role>][;company=<companyId>][;expires=<ISO date>]`.
 * `<key>` is `sha256:<hex digest of the key>` (required in production) or, outside production, the key itself.
 * role: service (default), system-admin, tenant-admin or viewer; tenant roles need `company`, a service key
 * with `company` is bound to that tenant, a system-admin key never is. A bare `<key>` (no name) is `keyN`.
 */
export function parseApiKeys(raw: string | undefined, production: boolean, problems: string[]): ApiKeyConfig[] {
  const keys: ApiKeyConfig[] = [];
  const entries = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  entries.forEach((entry, i) => {
    const [head, ...attributes] = entry.split(';').map((s) => s.trim());
    const eq = head.indexOf('=');
    const name = eq > 0 ? head.slice(0, eq) : `key${i + 1}`;
    const value = eq > 0 ? head.slice(eq + 1) : head;
    const where = `API_KEYS: key "${name.slice(0, 64)}"`;
    if (!NAME.test(name)) return problems.push(`API_KEYS: entry ${i + 1}: the name must be 1-64 letters, digits, _ . or -`);
    let digest: string;
    const hashed = DIGEST.exec(value);
    if (hashed) digest = hashed[1].toLowerCase();
    else if (production) return problems.push(`${where}: store the key's SHA-256 (sha256:<hex>) in production, not the key`);
    else if (value.length < MIN_PLAIN_KEY_LENGTH) return problems.push(`${where}: a key must be at least ${MIN_PLAIN_KEY_LENGTH} characters`);
    else digest = sha256Hex(value);
    let role: Role = 'service';
    let companyId: string | null = null;
    let expiresAt: Date | null = null;
    for (const attribute of attributes) {
      const at = attribute.indexOf('=');
      const k = at > 0 ? attribute.slice(0, at) : attribute;
      const v = at > 0 ? attribute.slice(at + 1) : '';
      if (k === 'role') {
        if (!(ROLES as readonly string[]).includes(v) || v === 'user') return problems.push(`${where}: role must be one of service, system-admin, tenant-admin, viewer`);
        role = v as Role;
      } else if (k === 'company') {
        if (!TOKEN.test(v)) return problems.push(`${where}: company must be a companyId (letters, digits, _ and -)`);
        companyId = v;
      } else if (k === 'expires') {
        expiresAt = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? new Date(v) : null;
        if (!expiresAt || Number.isNaN(expiresAt.getTime())) return problems.push(`${where}: expires must be an ISO 8601 date (2027-01-01) or date-time with offset`);
      } else {
        return problems.push(`${where}: unknown attribute "${k.slice(0, 20)}" (role, company, expires)`);
      }
    }
    if (TENANT_ROLES.includes(role) && !companyId) return problems.push(`${where}: role ${role} needs company=<companyId>`);
    if (role === 'system-admin' && companyId) return problems.push(`${where}: a system-admin key is not bound to a company; use role=tenant-admin`);
    if (keys.some((k) => k.name === name)) return problems.push(`${where}: the name appears twice`);
    if (keys.some((k) => k.digest === digest)) return problems.push(`${where}: the same key is configured twice`);
    keys.push({ name, digest, role: role as ApiKeyConfig['role'], companyId, expiresAt });
  });
  return keys;
}
