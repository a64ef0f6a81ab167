import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ProblemException, ProblemJsonFilter, problemValidationPipe } from '../../../../libs/common/src/http/problem-json.filter.js';
import { InvalidRecurrenceRuleError, InvalidTimezoneError } from '../../../../libs/common/src/time/index.js';
import { CalendarEventNotFoundError, CalendarService } from '../calendar/calendar.service.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { TasksService } from '../tasks/tasks.service.js';
import { TemplateNotFoundError } from '../tasks/tasks.types.js';
import { CalendarEventDto, InstancesQuery, InstanceStatusDto, SettingsDto, TemplateDto } from './dto.js';
import { Tenant, TenantGuard, type TenantContext } from '../../../../libs/common/src/http/tenant.guard.js';

/** Turns domain errors into problem+json: 422 for a rule or zone that cannot work, 404 for another tenant's or a missing object. */
async function problems<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InvalidRecurrenceRuleError || e instanceof InvalidTimezoneError) {
      throw new ProblemException(422, 'invalid-recurrence', 'The recurrence cannot be used', e.message);
    }
    if (e instanceof TemplateNotFoundError || e instanceof CalendarEventNotFoundError) throw new ProblemException(404, 'not-found', 'Not found', e.message);
    throw e;
  }
}

@Controller('api/v1')
@UseGuards(TenantGuard)
@UseFilters(ProblemJsonFilter)
@UsePipes(problemValidationPipe())
export class RecurrenceController {
  constructor(
    private readonly tasks: TasksService,
    private readonly calendar: CalendarService,
    private readonly settings: SettingsRepository,
  ) {}

  @Post('task-templates')
  createTemplate(@Tenant() t: TenantContext, @Body() body: TemplateDto) {
    return problems(() => this.tasks.createTemplate(t.companyId, body));
  }

  @Get('task-templates')
  listTemplates(@Tenant() t: TenantContext) {
    return this.tasks.listTemplates(t.companyId);
  }

  @Get('task-templates/:id')
  async getTemplate(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string) {
    const found = await this.tasks.getTemplate(t.companyId, id);
    if (!found) throw new ProblemException(404, 'not-found', 'Not found', `task template ${id} was not found`);
    return found;
  }

  @Put('task-templates/:id')
  changeTemplate(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: TemplateDto) {
    return problems(() => this.tasks.changeTemplate(t.companyId, id, body));
  }

  @Delete('task-templates/:id')
  @HttpCode(204)
  async deleteTemplate(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await problems(() => this.tasks.deleteTemplate(t.companyId, id));
  }

  @Get('task-instances')
  listInstances(@Tenant() t: TenantContext, @Query() q: InstancesQuery) {
    return this.tasks.listInstances(t.companyId, { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, templateId: q.templateId });
  }

  @Patch('task-instances/:id')
  async setStatus(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: InstanceStatusDto) {
    const updated = await this.tasks.setStatus(t.companyId, id, body.status, t.userId);
    if (!updated) throw new ProblemException(404, 'not-found', 'Not found', `task instance ${id} was not found`);
    return updated;
  }

  @Get('task-instances/:id/reminders')
  taskReminders(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string) {
    return this.tasks.remindersOf(t.companyId, id);
  }

  @Post('calendar-events')
  createEvent(@Tenant() t: TenantContext, @Body() body: CalendarEventDto) {
    return problems(() => this.calendar.create(t.companyId, body));
  }

  @Get('calendar-events')
  listEvents(@Tenant() t: TenantContext) {
    return this.calendar.list(t.companyId);
  }

  @Get('calendar-events/:id/reminders')
  reminders(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string) {
    return this.calendar.reminders(t.companyId, id);
  }

  @Put('calendar-events/:id')
  changeEvent(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string, @Body() body: CalendarEventDto) {
    return problems(() => this.calendar.change(t.companyId, id, body));
  }

  @Delete('calendar-events/:id')
  @HttpCode(204)
  async deleteEvent(@Tenant() t: TenantContext, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await problems(() => this.calendar.remove(t.companyId, id));
  }

  @Get('recurrence-settings')
  getSettings(@Tenant() t: TenantContext) {
    return this.settings.get(t.companyId);
  }

  @Put('recurrence-settings')
  putSettings(@Tenant() t: TenantContext, @Body() body: SettingsDto) {
    return this.settings.put({ companyId: t.companyId, horizonDays: body.horizonDays ?? 30, cleanupAfterDays: body.cleanupAfterDays ?? null });
  }
}
