import { Injectable } from '@nestjs/common';
import { CalendarService } from '../calendar/calendar.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import { TenantZoneRepository } from './tenant-zone.repository.js';

/**
 * Each tenant's timezone, from the tenant registry: recurrence reads rules in
 * it, and templates and calendar events without a timezone of their own move
 * with it (re-expanded, reminders planned anew).
 */
@Injectable()
export class TenantZoneService {
  constructor(
    private readonly zones: TenantZoneRepository,
    private readonly tasks: TasksService,
    private readonly calendar: CalendarService,
  ) {}

  /** Returns how many templates and events moved. */
  async apply(companyId: string, timezone: string, version: number): Promise<number> {
    await this.zones.apply(companyId, timezone, version);
    // Moves whatever still differs from the zone now stored (not the event's: it may be stale), so a redelivery after a failure part-way finishes the move.
    const current = (await this.zones.timezone(companyId)) ?? timezone;
    return (await this.tasks.followTenantZone(companyId, current)) + (await this.calendar.followTenantZone(companyId, current));
  }
}
