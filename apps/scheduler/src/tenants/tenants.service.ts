import { Injectable } from '@nestjs/common';
import { Clock } from '../../../../libs/common/src/index.js';
import { isValidTimezone } from '../../../../libs/common/src/time/index.js';
import { SchedulesRepository } from '../schedules/schedules.repository.js';
import { ScheduleValidationError, type Tenant } from '../schedules/schedule.types.js';
import { TenantsRepository } from './tenants.repository.js';

/** Tenants and their timezones: who per-tenant schedules fire for, and at what local time. */
@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly schedules: SchedulesRepository,
    private readonly clock: Clock,
  ) {}

  async upsertTenant(input: { companyId: string; timezone: string; active?: boolean }): Promise<Tenant> {
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_-]+$/.test(input.companyId ?? '')) problems.push('companyId: letters, digits, _ and - only');
    if (!isValidTimezone(input.timezone)) problems.push(`timezone: ${JSON.stringify(input.timezone)} is not an IANA timezone`);
    if (problems.length) throw new ScheduleValidationError(problems);
    const tenant: Tenant = { companyId: input.companyId, timezone: input.timezone, active: input.active ?? true };
    const now = this.clock.now();
    // One transaction: a claim must never see the tenant active in a timezone its tenant-time schedules
    // are not yet armed for, or it would start that zone's cursor late and skip its first occurrence.
    await this.schedules.transaction(async (tx) => {
      const { previousTimezone } = await this.tenants.upsert(tenant, now, tx);
      // A timezone new to a tenant-time schedule gets its cursor at the next claim.
      if (tenant.active && previousTimezone !== tenant.timezone) await this.schedules.armTenantZone(tenant.timezone, now, tx);
    });
    return tenant;
  }

  find(companyId: string): Promise<Tenant | null> {
    return this.tenants.find(companyId);
  }

  activeByZone(): Promise<Map<string, string[]>> {
    return this.tenants.activeByZone();
  }
}
