/**
 * Who is calling the admin API and what they may do.
 *
 * | role          | tenants          | read | write (trigger, retry, purge, own schedules) | platform (queues, job pause, cleanup) |
 * | system-admin  | every tenant     | yes  | yes                                          | yes                                   |
 * | tenant-admin  | own companyId    | yes  | yes                                          | no                                    |
 * | viewer        | own companyId    | yes  | no                                           | no                                    |
 * | service (key) | every tenant     | yes  | yes                                          | no                                    |
 */
export const ROLES = ['system-admin', 'tenant-admin', 'viewer', 'service'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'write', 'platform'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Principal {
  /** `sub` of a token, or `api-key:<name>`. */
  id: string;
  role: Role;
  /** The tenant of a tenant-admin or viewer; null for system-admin and service. */
  companyId: string | null;
  kind: 'jwt' | 'api-key';
}

const GRANTS: Record<Role, readonly Permission[]> = {
  'system-admin': ['read', 'write', 'platform'],
  'tenant-admin': ['read', 'write'],
  viewer: ['read'],
  service: ['read', 'write'],
};

export function can(principal: Principal, permission: Permission): boolean {
  return GRANTS[principal.role].includes(permission);
}

/** The only tenant a principal sees, or null when it sees every tenant. */
export function tenantScope(principal: Principal): string | null {
  return principal.role === 'system-admin' || principal.role === 'service' ? null : principal.companyId;
}

/** True when the principal may see data of `companyId` (null: data of no tenant, i.e. platform-wide). */
export function seesTenant(principal: Principal, companyId: string | null | undefined): boolean {
  const scope = tenantScope(principal);
  return scope === null || (companyId ?? null) === scope;
}
