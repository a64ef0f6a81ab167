/**
 * Who is calling an HTTP API of any service and what they may do.
 *
 * | role          | tenants                         | read | write | platform | inbox (own notifications, preferences) |
 * | system-admin  | every tenant (or one, acting)   | yes  | yes   | yes      | no                                     |
 * | service       | every tenant, or its key's one  | yes  | yes   | no       | no                                     |
 * | tenant-admin  | own companyId                   | yes  | yes   | no       | yes                                    |
 * | viewer        | own companyId                   | yes  | no    | no       | yes                                    |
 * | user          | own companyId                   | no   | no    | no       | yes                                    |
 */
export const ROLES = ['system-admin', 'service', 'tenant-admin', 'viewer', 'user'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'write', 'platform', 'inbox'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Roles that may exist without a tenant and may act for a named one (X-Act-For-Company). */
export const PLATFORM_ROLES: readonly Role[] = ['system-admin', 'service'];

export interface Principal {
  /** `sub` of a token, or `api-key:<name>`. */
  id: string;
  role: Role;
  /** The tenant the credential is bound to; null only for platform roles without one. */
  companyId: string | null;
  kind: 'jwt' | 'api-key';
  /** When the credential stops being valid (token `exp`, key `expires`); streams end then. */
  expiresAt: Date | null;
  /** A platform principal acting for one tenant (X-Act-For-Company): it then sees what that tenant sees. */
  actingFor?: string;
}

const GRANTS: Record<Role, readonly Permission[]> = {
  'system-admin': ['read', 'write', 'platform'],
  service: ['read', 'write'],
  'tenant-admin': ['read', 'write', 'inbox'],
  viewer: ['read', 'inbox'],
  user: ['inbox'],
};

export function can(principal: Principal, permission: Permission): boolean {
  return GRANTS[principal.role].includes(permission);
}

/**
 * Whether the principal sees internal detail — a failed attempt's stack frames
 * (function names, project-relative paths; never a message, an absolute path or
 * a credential: errorStackOf). Platform roles (system admins, service keys) do:
 * they run and fix the code that failed. Tenant roles — a customer's admins and
 * viewers — get the error message only (least privilege, CWE-209): they can
 * retry or delete a run, and nothing in the frames changes what they can do.
 * Tenant isolation is the caller's scope, as for every read.
 */
export function seesInternals(principal: Principal): boolean {
  return PLATFORM_ROLES.includes(principal.role);
}

/** The only tenant a principal sees, or null when it sees every tenant. */
export function tenantScope(principal: Principal): string | null {
  return principal.companyId ?? principal.actingFor ?? null;
}

/** True when the principal may see data of `companyId` (null: data of no tenant, i.e. platform-wide). */
export function seesTenant(principal: Principal, companyId: string | null | undefined): boolean {
  const scope = tenantScope(principal);
  return scope === null || (companyId ?? null) === scope;
}
