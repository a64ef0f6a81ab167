import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query } from '@nestjs/common';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { InvalidRecurrenceRuleError, InvalidTimezoneError, isValidTimezone } from '../../../../libs/common/src/time/index.js';
import { CalendarEventNotFoundError, CalendarService } from '../calendar/calendar.service.js';
import { TenantLimitError } from '../limits/recurrence-limits.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { TasksService } from '../tasks/tasks.service.js';
import { TemplateNotFoundError } from '../tasks/tasks.types.js';
import { CalendarEventDto, InstancesQuery, InstanceStatusDto, SettingsDto, TemplateDto } from './dto.js';
import { Actor, Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { Audited, AuditLog, type AuditActor } from '../../../../libs/common/src/audit/index.js';
import { PageParams, pageBody, pageRequest, UUID } from '../../../../libs/common/src/http/pagination.js';

/** Turns domain errors into problem+json: 422 for a rule, zone or start that cannot work (or costs too much), 409 for a tenant cap, 404 for another tenant's or a missing object. */
async function problems<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InvalidRecurrenceRuleError || e instanceof InvalidTimezoneError) {
      throw new ProblemException(422, 'invalid-recurrence', 'The recurrence cannot be used', e.message);
    }
    if (e instanceof TenantLimitError) throw new ProblemException(409, 'tenant-limit', 'Tenant limit reached', e.message);
    if (e instanceof TemplateNotFoundError || e instanceof CalendarEventNotFoundError) throw new ProblemException(404, 'not-found', 'Not found', e.message);
    throw e;
  }
}

@Controller('api/v1')
@SecuredApi()
export class RecurrenceController {
  constructor(
    private readonly tasks: TasksService,
    private readonly calendar: CalendarService,
    private readonly settings: SettingsRepository,
    private readonly audit: AuditLog,
  ) {}

  @Post('task-templates')
  @Audited('task-template.create')
  @Authorize('write')
  createTemplate(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Body() body: TemplateDto) {
    return this.audit.change(a, { action: 'task-template.create', targetType: 'task-template', targetId: (r) => r.id, companyId: t.companyId },
      () => problems(() => this.tasks.createTemplate(t.companyId, body)));
  }

  @Get('task-templates')
  @Authorize('read')
  async listTemplates(@Tenant() t: TenantContext, @Query() q: PageParams) {
    const page = pageRequest(q, UUID);
    return pageBody(await this.tasks.listTemplates(t.companyId, page), page.limit);
  }

  @Get('task-templates/:id')
  @Authorize('read')
  async getTemplate(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string) {
    const found = await this.tasks.getTemplate(t.companyId, id);
    if (!found) throw new ProblemException(404, 'not-found', 'Not found', `task template ${id} was not found`);
    return found;
  }

  @Put('task-templates/:id')
  @Audited('task-template.change')
  @Authorize('write')
  changeTemplate(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: TemplateDto) {
    return this.audit.change(a, { action: 'task-template.change', targetType: 'task-template', targetId: id, companyId: t.companyId, before: () => this.tasks.getTemplate(t.companyId, id) },
      () => problems(() => this.tasks.changeTemplate(t.companyId, id, body)));
  }

  @Delete('task-templates/:id')
  @Audited('task-template.delete')
  @HttpCode(204)
  @Authorize('write')
  async deleteTemplate(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.audit.change(a, { action: 'task-template.delete', targetType: 'task-template', targetId: id, companyId: t.companyId, before: () => this.tasks.getTemplate(t.companyId, id), after: () => null },
      () => problems(() => this.tasks.deleteTemplate(t.companyId, id)));
  }

  @Get('task-instances')
  @Authorize('read')
  async listInstances(@Tenant() t: TenantContext, @Query() q: InstancesQuery) {
    const page = pageRequest(q, UUID);
    const filter = { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, templateId: q.templateId };
    return pageBody(await this.tasks.listInstances(t.companyId, filter, page), page.limit);
  }

  @Patch('task-instances/:id')
  @Audited('task-instance.status')
  @Authorize('write')
  async setStatus(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: InstanceStatusDto) {
    return this.audit.transaction(a, async (record) => {
      const changed = await this.tasks.setStatus(t.companyId, id, body.status, t.userId);
      if (!changed) throw new ProblemException(404, 'not-found', 'Not found', `task instance ${id} was not found`);
      await record({ action: 'task-instance.status', targetType: 'task-instance', targetId: id, companyId: t.companyId, before: { status: changed.previous }, after: { status: changed.instance.status } });
      return changed.instance;
    });
  }

  @Get('task-instances/:id/reminders')
  @Authorize('read')
  taskReminders(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string) {
    return this.tasks.remindersOf(t.companyId, id);
  }

  @Post('calendar-events')
  @Audited('calendar-event.create')
  @Authorize('write')
  createEvent(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Body() body: CalendarEventDto) {
    return this.audit.change(a, { action: 'calendar-event.create', targetType: 'calendar-event', targetId: (r) => r.id, companyId: t.companyId },
      () => problems(() => this.calendar.create(t.companyId, body)));
  }

  @Get('calendar-events')
  @Authorize('read')
  async listEvents(@Tenant() t: TenantContext, @Query() q: PageParams) {
    const page = pageRequest(q, UUID);
    return pageBody(await this.calendar.list(t.companyId, page), page.limit);
  }

  @Get('calendar-events/:id/reminders')
  @Authorize('read')
  async reminders(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Query() q: PageParams) {
    const page = pageRequest(q);
    return pageBody(await this.calendar.reminders(t.companyId, id, page), page.limit);
  }

  @Put('calendar-events/:id')
  @Audited('calendar-event.change')
  @Authorize('write')
  changeEvent(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: CalendarEventDto) {
    return this.audit.change(a, { action: 'calendar-event.change', targetType: 'calendar-event', targetId: id, companyId: t.companyId, before: () => this.calendar.get(t.companyId, id) },
      () => problems(() => this.calendar.change(t.companyId, id, body)));
  }

  @Delete('calendar-events/:id')
  @Audited('calendar-event.delete')
  @HttpCode(204)
  @Authorize('write')
  async deleteEvent(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.audit.change(a, { action: 'calendar-event.delete', targetType: 'calendar-event', targetId: id, companyId: t.companyId, before: () => this.calendar.get(t.companyId, id), after: () => null },
      () => problems(() => this.calendar.remove(t.companyId, id)));
  }

  @Get('recurrence-settings')
  @Authorize('read')
  getSettings(@Tenant() t: TenantContext) {
    return this.settings.get(t.companyId);
  }

  @Put('recurrence-settings')
  @Audited('recurrence-settings.put')
  @Authorize('write')
  putSettings(@Actor() a: AuditActor, @Tenant() t: TenantContext, @Body() body: SettingsDto) {
    return this.audit.change(a, { action: 'recurrence-settings.put', targetType: 'recurrence-settings', targetId: t.companyId, companyId: t.companyId, before: () => this.settings.get(t.companyId) },
      () => this.settings.put({ companyId: t.companyId, horizonDays: body.horizonDays ?? 30, cleanupAfterDays: body.cleanupAfterDays ?? null }));
  }
}
