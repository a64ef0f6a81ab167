import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../../libs/common/src/auth/index.js';
import { AuditRepository, type AuditEntry, type AuditFilter } from './audit.repository.js';

export interface AuditContext {
  principal: Principal;
  requestId?: string | null;
  ip?: string | null;
}

/** Records every change made through the admin API: who, what, when, which tenant, before and after. */
@Injectable()
export class AuditService {
  constructor(private readonly repository: AuditRepository) {}

  record(ctx: AuditContext, change: { action: string; targetType: string; targetId?: string | null; companyId?: string | null; before?: unknown; after?: unknown }): Promise<AuditEntry> {
    return this.repository.insert({
      actor: ctx.principal.id,
      actorRole: ctx.principal.role,
      actorKind: ctx.principal.kind,
      action: change.action,
      targetType: change.targetType,
      targetId: change.targetId ?? null,
      companyId: change.companyId ?? null,
      before: change.before ?? null,
      after: change.after ?? null,
      requestId: ctx.requestId ?? null,
      ip: ctx.ip ?? null,
    });
  }

  /** A change the platform made on its own (retention, say): actor, role and kind `system`. */
  recordSystem(change: { action: string; targetType: string; targetId?: string | null; companyId?: string | null; before?: unknown; after?: unknown }): Promise<AuditEntry> {
    return this.repository.insert({
      actor: 'system',
      actorRole: 'system',
      actorKind: 'system',
      action: change.action,
      targetType: change.targetType,
      targetId: change.targetId ?? null,
      companyId: change.companyId ?? null,
      before: change.before ?? null,
      after: change.after ?? null,
      requestId: null,
      ip: null,
    });
  }

  list(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.repository.list(filter);
  }
}
