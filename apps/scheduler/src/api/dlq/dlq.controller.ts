import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SecuredApi, Authorize, CurrentPrincipal, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { Audited, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { problems } from '../../http/problems.js';
import { DlqMatchBody, ListDlqQuery, PurgeBody, RetryMatchingBody } from '../dto/api.dto.js';
import { dateOrUndefined, decodeCursor, page } from '../dto/pagination.js';
import { effectiveTenant } from '../scope.js';
import { DlqService } from './dlq.service.js';
import { redactEncryptedText } from '../../../../../libs/common/src/index.js';

function filterOf(p: Principal, b: DlqMatchBody) {
  const { scope, foreign } = effectiveTenant(p, b.companyId);
  return {
    foreign,
    filter: { scope, consumer: b.consumer, messageType: b.job, reason: b.reason, error: b.error, from: dateOrUndefined(b.from), to: dateOrUndefined(b.to) },
  };
}

@ApiTags('dead letters')
@SecuredApi()
@Controller('api/v1/dlq')
export class DlqController {
  constructor(private readonly dlq: DlqService) {}

  @Get()
  @Authorize('read')
  @ApiOperation({ summary: 'Dead letters, newest first; filter by job, tenant, consumer, reason, error text, time and status' })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListDlqQuery) {
    const { foreign, filter } = filterOf(p, q);
    const limit = q.limit ?? 50;
    if (foreign) return { items: [], nextCursor: null };
    return page(await this.dlq.list({ ...filter, status: q.status ?? 'pending', cursor: decodeCursor(q.cursor), limit }), limit);
  }

  @Get(':id')
  @Authorize('read')
  @ApiNotFoundResponse({ description: 'No such dead letter for the caller' })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    // Sensitive (encrypted) payload fields show as "[redacted]" (docs/durability.md).
    const d = await this.dlq.get(id, effectiveTenant(p).scope);
    return { ...d, payload: redactEncryptedText(d.payload) };
  }

  @Post(':id/retry')
  @Audited('dlq.retry')
  @HttpCode(200)
  @Authorize('write')
  @ApiOperation({ summary: 'Re-publish one dead letter to its original subject with fresh attempts' })
  retry(@Actor() ctx: AuditContext, @Param('id') id: string) {
    return this.dlq.retryOne(ctx, id);
  }

  @Post('retry')
  @Audited('dlq.retry')
  @HttpCode(200)
  @Authorize('write')
  @ApiOperation({ summary: 'Retry every pending dead letter matching the filter (at most `max`)' })
  async retryMatching(@Actor() ctx: AuditContext, @Body() body: RetryMatchingBody) {
    const { foreign, filter } = filterOf(ctx.principal, body);
    if (foreign) return { matched: 0, retried: [], failed: [] };
    return this.dlq.retryMatching(ctx, filter, body.max ?? 100);
  }

  @Delete(':id')
  @Audited('dlq.purge')
  @Authorize('write')
  @ApiOperation({ summary: 'Purge one dead letter' })
  async remove(@Actor() ctx: AuditContext, @Param('id') id: string) {
    await this.dlq.get(id, effectiveTenant(ctx.principal).scope);
    return this.dlq.purge(ctx, { ids: [id] });
  }

  @Post('purge')
  @Audited('dlq.purge')
  @HttpCode(200)
  @Authorize('write')
  @ApiOperation({ summary: 'Purge dead letters by ids, or every one matching the filter (confirm: true)' })
  async purge(@Actor() ctx: AuditContext, @Body() body: PurgeBody) {
    if (body.ids) return this.dlq.purge(ctx, { ids: body.ids });
    if (body.confirm !== true) throw problems.unprocessable('Purging by filter needs "confirm": true (or give "ids")');
    const { foreign, filter } = filterOf(ctx.principal, body);
    if (foreign) return { deleted: 0 };
    return this.dlq.purge(ctx, { filter: { ...filter, status: body.status ?? 'all' } });
  }
}
