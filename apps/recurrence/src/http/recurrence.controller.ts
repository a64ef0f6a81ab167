import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query } from '@nestjs/common';
import { ProblemException } from '../../../../libs/common/src/http/problem-json.filter.js';
import { InvalidRecurrenceRuleError, InvalidTimezoneError, isValidTimezone } from '../../../../libs/common/src/time/index.js';
import { CalendarEventNotFoundError, CalendarService } from '../calendar/calendar.service.js';
import { TenantLimitError } from '../limits/recurrence-limits.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { TasksService } from '../tasks/tasks.service.js';
import { TemplateNotFoundError } from '../tasks/tasks.types.js';
import { CalendarEventDto, InstancesQuery, InstanceStatusDto, SettingsDto, TemplateDto } from './dto.js';
import { Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
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
  ) {}

  @Post('task-templates')
  @Authorize('write')
  createTemplate(@Tenant() t: TenantContext, @Body() body: TemplateDto) {
    return problems(() => this.tasks.createTemplate(t.companyId, body));
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
  @Authorize('write')
  changeTemplate(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: TemplateDto) {
    return problems(() => this.tasks.changeTemplate(t.companyId, id, body));
  }

  @Delete('task-templates/:id')
  @HttpCode(204)
  @Authorize('write')
  async deleteTemplate(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await problems(() => this.tasks.deleteTemplate(t.companyId, id));
  }

  @Get('task-instances')
  @Authorize('read')
  async listInstances(@Tenant() t: TenantContext, @Query() q: InstancesQuery) {
    const page = pageRequest(q, UUID);
    const filter = { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, templateId: q.templateId };
    return pageBody(await this.tasks.listInstances(t.companyId, filter, page), page.limit);
  }

  @Patch('task-instances/:id')
  @Authorize('write')
  async setStatus(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: InstanceStatusDto) {
    const updated = await this.tasks.setStatus(t.companyId, id, body.status, t.userId);
    if (!updated) throw new ProblemException(404, 'not-found', 'Not found', `task instance ${id} was not found`);
    return updated;
  }

  @Get('task-instances/:id/reminders')
  @Authorize('read')
  taskReminders(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string) {
    return this.tasks.remindersOf(t.companyId, id);
  }

  @Post('calendar-events')
  @Authorize('write')
  createEvent(@Tenant() t: TenantContext, @Body() body: CalendarEventDto) {
    return problems(() => this.calendar.create(t.companyId, body));
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
  @Authorize('write')
  changeEvent(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: CalendarEventDto) {
    return problems(() => this.calendar.change(t.companyId, id, body));
  }

  @Delete('calendar-events/:id')
  @HttpCode(204)
  @Authorize('write')
  async deleteEvent(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await problems(() => this.calendar.remove(t.companyId, id));
  }

  @Get('recurrence-settings')
  @Authorize('read')
  getSettings(@Tenant() t: TenantContext) {
    return this.settings.get(t.companyId);
  }

  @Put('recurrence-settings')
  @Authorize('write')
  putSettings(@Tenant() t: TenantContext, @Body() body: SettingsDto) {
    return this.settings.put({ companyId: t.companyId, horizonDays: body.horizonDays ?? 30, cleanupAfterDays: body.cleanupAfterDays ?? null });
  }
}
