import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Actor, SecuredApi, Authorize, CurrentPrincipal, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { Audited, NotAudited, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { ListSchedulesQuery, PreviewBody, PreviewQuery, ScheduleCreateBody, SchedulePatchBody, TriggerScheduleBody } from '../dto/api.dto.js';
import { decodeNameCursor, namePage } from '../dto/pagination.js';
import { SchedulesApiService } from './schedules-api.service.js';

@ApiTags('schedules')
@SecuredApi()
@Controller('api/v1/schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesApiService) {}

  @Get()
  @Authorize('read')
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListSchedulesQuery) {
    const limit = q.limit ?? 500;
    return namePage(await this.schedules.list(p, q.companyId, { after: decodeNameCursor(q.cursor), limit: limit + 1 }), limit, (s) => s.name);
  }

  @Post('preview')
  @NotAudited('validates a draft schedule and returns its firings; stores nothing')
  @HttpCode(200)
  @Authorize('read')
  @ApiOperation({ summary: 'Validate a cron expression (or interval) in a timezone and preview its firings from an instant (default now), with local times and DST marks' })
  @ApiUnprocessableEntityResponse({ description: 'Invalid cron expression, interval or timezone (problem+json with errors)' })
  preview(@Body() body: PreviewBody) {
    return this.schedules.previewDraft(body);
  }

  @Post()
  @Audited('schedule.create')
  @Authorize('write')
  @ApiOperation({ summary: 'Create a schedule (tenant-admins: scope "tenant" for their company only)' })
  @ApiUnprocessableEntityResponse({ description: 'Invalid cron expression, timezone or combination of fields' })
  create(@Actor() ctx: AuditContext, @Body() body: ScheduleCreateBody) {
    return this.schedules.create(ctx, body);
  }

  @Get(':ref')
  @Authorize('read')
  get(@CurrentPrincipal() p: Principal, @Param('ref') ref: string) {
    return this.schedules.get(p, ref);
  }

  @Get(':ref/preview')
  @Authorize('read')
  @ApiOperation({ summary: 'The next firings of a stored schedule from an instant (default now), with local times and DST marks' })
  previewOf(@CurrentPrincipal() p: Principal, @Param('ref') ref: string, @Query() q: PreviewQuery) {
    return this.schedules.previewOf(p, ref, q);
  }

  @Patch(':ref')
  @Audited('schedule.change')
  @Authorize('write')
  @ApiUnprocessableEntityResponse({ description: 'Invalid cron expression, timezone or combination of fields' })
  change(@Actor() ctx: AuditContext, @Param('ref') ref: string, @Body() body: SchedulePatchBody) {
    return this.schedules.change(ctx, ref, body);
  }

  @Delete(':ref')
  @Audited('schedule.delete')
  @HttpCode(204)
  @Authorize('write')
  async remove(@Actor() ctx: AuditContext, @Param('ref') ref: string): Promise<void> {
    await this.schedules.remove(ctx, ref);
  }

  @Post(':ref/pause')
  @Audited('schedule.pause')
  @HttpCode(200)
  @Authorize('write')
  pause(@Actor() ctx: AuditContext, @Param('ref') ref: string) {
    return this.schedules.setPaused(ctx, ref, true);
  }

  @Post(':ref/resume')
  @Audited('schedule.resume')
  @HttpCode(200)
  @Authorize('write')
  resume(@Actor() ctx: AuditContext, @Param('ref') ref: string) {
    return this.schedules.setPaused(ctx, ref, false);
  }

  @Post(':ref/trigger')
  @Audited('schedule.trigger')
  @HttpCode(202)
  @Authorize('write')
  trigger(@Actor() ctx: AuditContext, @Param('ref') ref: string, @Body() body: TriggerScheduleBody) {
    return this.schedules.trigger(ctx, ref, body);
  }
}
