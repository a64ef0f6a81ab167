import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { SecuredApi, Authorize, CurrentPrincipal, type Principal } from '../../../../libs/common/src/auth/index.js';
import { ListAuditQuery } from '../api/dto/api.dto.js';
import { dateOrUndefined, decodeCursor, encodeCursor } from '../api/dto/pagination.js';
import { effectiveTenant } from '../api/scope.js';
import { AuditLog } from '../../../../libs/common/src/audit/index.js';

@ApiTags('audit')
@SecuredApi()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @Authorize('read')
  @ApiOperation({ summary: 'Audit log of every change made through the API of any service, newest first (tenant callers: their tenant only)' })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListAuditQuery) {
    const { scope, foreign } = effectiveTenant(p, q.companyId);
    const limit = q.limit ?? 50;
    if (foreign) return { items: [], nextCursor: null };
    const cursor = decodeCursor(q.cursor);
    const items = await this.audit.list({
      scope, action: q.action, actor: q.actor, targetType: q.targetType, targetId: q.targetId, from: dateOrUndefined(q.from), to: dateOrUndefined(q.to),
      before: cursor ? { at: cursor.createdAt, id: cursor.id } : undefined, limit,
    });
    const last = items[items.length - 1];
    return { items, nextCursor: items.length === limit && last ? encodeCursor(last.at, last.id) : null };
  }
}
