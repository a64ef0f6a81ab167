import { Injectable } from '@nestjs/common';
import { JOB_NAMES } from '../../../../libs/common/src/index.js';
import { SchedulesService } from '../schedules/schedules.service.js';
import { TENANT_TIMEZONE, type Schedule, type ScheduleInput } from '../schedules/schedule.types.js';

/** Each tenant's expiry scan is its own schedule, `platform.documents-expiry-scan.<companyId>`. */
export const EXPIRY_SCAN_SCHEDULE_PREFIX = 'platform.documents-expiry-scan.';

export function expiryScanSchedule(companyId: string, scanHour: number): ScheduleInput {
  return {
    name: `${EXPIRY_SCAN_SCHEDULE_PREFIX}${companyId}`,
    kind: 'cron',
    cron: `0 ${scanHour} * * *`,
    timezone: TENANT_TIMEZONE,
    scope: 'tenant',
    companyId,
    job: JOB_NAMES.documentsExpiryScan,
    payload: {},
    priority: 'normal',
    description: `${companyId}'s document expiry scan at ${String(scanHour).padStart(2, '0')}:00 tenant time (documents' scanHour)`,
  };
}

/**
 * The platform schedules a tenant has on its own, as opposed to the per_tenant
 * ones every tenant shares (PlatformSchedules): its document expiry scan, at
 * the hour documents' expiry settings name (`scanHour`, 08:00 by default), in
 * the tenant's timezone. The tenant registry calls ensure() when a tenant is
 * registered and when its scan hour changes; an unchanged definition keeps its
 * cursor.
 */
@Injectable()
export class TenantSchedules {
  constructor(private readonly schedules: SchedulesService) {}

  ensure(companyId: string, scanHour: number): Promise<Schedule> {
    return this.schedules.upsertByName(expiryScanSchedule(companyId, scanHour), 'code');
  }
}
