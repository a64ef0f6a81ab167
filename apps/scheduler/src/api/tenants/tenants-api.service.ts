import { Injectable } from '@nestjs/common';
import { AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { tenantScope, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { problems } from '../../http/problems.js';
import { TENANT_ADMIN_FIELDS, TenantExistsError, TenantNotFoundError, TenantValidationError, type Tenant, type TenantPatch } from '../../tenants/tenant.types.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { TOKEN } from '../dto/pagination.js';
import type { ListTenantsQuery, TenantCreateBody, TenantPatchBody } from './tenant.dto.js';

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof TenantValidationError) throw problems.unprocessable('The tenant is invalid', e.problems);
    if (e instanceof TenantNotFoundError) throw problems.notFound(`Tenant "${e.companyId}"`);
    if (e instanceof TenantExistsError) throw problems.conflict(`Tenant "${e.companyId}" is registered already`);
    throw e;
  }
}

const encodeCursor = (companyId: string) => Buffer.from(companyId, 'utf8').toString('base64url');

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const companyId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!TOKEN.test(companyId)) throw problems.unprocessable('cursor: not a cursor this API returned');
  return companyId;
}

/** The admin API over the tenant registry: who may see and change which tenant, problems, audit. */
@Injectable()
export class TenantsApiService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly audit: AuditLog,
  ) {}

  /** Tenant callers see their own tenant only. */
  async list(p: Principal, q: ListTenantsQuery): Promise<{ items: Tenant[]; nextCursor: string | null }> {
    const limit = q.limit ?? 50;
    const items = await this.tenants.list({ after: decodeCursor(q.cursor), limit, only: tenantScope(p) ?? undefined });
    const last = items[items.length - 1];
    return { items, nextCursor: items.length === limit && last ? encodeCursor(last.companyId) : null };
  }

  get(p: Principal, companyId: string): Promise<Tenant> {
    this.assertVisible(p, companyId);
    return mapped(() => this.tenants.get(companyId));
  }

  async create(ctx: AuditContext, body: TenantCreateBody): Promise<Tenant> {
    return this.audit.transaction(ctx, async (record) => {
      const created = await mapped(() => this.tenants.create(body));
      await record({ action: 'tenant.create', targetType: 'tenant', targetId: created.companyId, companyId: created.companyId, after: created });
      return created;
    });
  }

  /** System admins change anything; a tenant's admins its own timezone and locale; nobody else. */
  async change(ctx: AuditContext, companyId: string, body: TenantPatchBody): Promise<Tenant> {
    return this.audit.transaction(ctx, async (record) => {
      const p = ctx.principal;
      if (p.role !== 'system-admin') {
        if (p.role !== 'tenant-admin') throw problems.forbidden('Tenants are changed by platform administrators, and a tenant\'s timezone and locale by its own administrators');
        this.assertVisible(p, companyId);
        const refused = Object.keys(body).filter((k) => body[k as keyof TenantPatchBody] !== undefined && !TENANT_ADMIN_FIELDS.includes(k as keyof TenantPatch));
        if (refused.length) throw problems.forbidden(`Tenant administrators change timezone and locale only (not ${refused.join(', ')})`);
      }
      const { before, after } = await mapped(() => this.tenants.change(companyId, body));
      if (after !== before) await record({ action: 'tenant.change', targetType: 'tenant', targetId: companyId, companyId, before, after });
      else record.nothingChanged();
      return after;
    });
  }

  private assertVisible(p: Principal, companyId: string): void {
    const own = tenantScope(p);
    if (!TOKEN.test(companyId) || (own !== null && own !== companyId)) throw problems.notFound(`Tenant "${companyId.slice(0, 100)}"`);
  }
}
