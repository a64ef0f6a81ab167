/** A tenant (company) in the registry: the one source of its timezone and locale. */
export interface Tenant {
  companyId: string;
  name: string | null;
  /** IANA zone every service reads the tenant's local times in. */
  timezone: string;
  /** BCP 47, canonical (en, de-DE). */
  locale: string;
  /** false: the tenant is gone; no runs, no announcements beyond the last one. */
  active: boolean;
  /** true: per-tenant and tenant-time schedules skip it until resumed. */
  paused: boolean;
  /** Bumped by every change; `tenant.upserted` carries it so consumers apply changes in order. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type TenantInput = Pick<Tenant, 'companyId' | 'timezone'> & Partial<Pick<Tenant, 'name' | 'locale' | 'active' | 'paused'>>;
export type TenantPatch = Partial<Pick<Tenant, 'name' | 'timezone' | 'locale' | 'active' | 'paused'>>;

/** What a tenant admin may change about its own tenant. */
export const TENANT_ADMIN_FIELDS: readonly (keyof TenantPatch)[] = ['timezone', 'locale'];

export const DEFAULT_LOCALE = 'en';
/** Documents' default scan hour (its expiry settings' scanHour), local time. */
export const DEFAULT_SCAN_HOUR = 8;

export class TenantValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid tenant: ${problems.join('; ')}`);
    this.name = 'TenantValidationError';
  }
}

export class TenantNotFoundError extends Error {
  constructor(readonly companyId: string) {
    super(`no tenant "${companyId}"`);
    this.name = 'TenantNotFoundError';
  }
}

export class TenantExistsError extends Error {
  constructor(readonly companyId: string) {
    super(`tenant "${companyId}" exists already`);
    this.name = 'TenantExistsError';
  }
}
