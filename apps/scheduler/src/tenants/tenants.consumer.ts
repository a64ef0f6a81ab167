import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  DocumentSettingsChangedEvent,
  EVENT_TYPES,
  JetStreamContext,
  OnMessage,
  PermanentError,
  TenantUpsertedEvent,
} from '../../../../libs/common/src/index.js';
import { domainEvent } from '../schedules/domain-event.js';
import { SchedulesService } from '../schedules/schedules.service.js';
import { TenantValidationError } from './tenant.types.js';
import { TenantsService } from './tenants.service.js';

function tenantOf(named: string | undefined, ctx: JetStreamContext): string {
  const companyId = named ?? ctx.companyId;
  if (!companyId) throw new PermanentError('the event names no tenant');
  if (ctx.companyId && companyId !== ctx.companyId) throw new PermanentError(`payload companyId "${companyId}" does not match the event's tenant "${ctx.companyId}"`);
  return companyId;
}

/**
 * The registry's inbound events on scheduler-events: a `tenant.upserted`
 * without a version (another service announcing a company) registers or
 * updates the tenant; the registry's own, versioned ones are already applied.
 * `document.settings_changed` moves the tenant's expiry scan. Both then go to
 * the event-triggered schedules like any event.
 */
@Controller()
export class TenantsConsumer {
  constructor(
    private readonly tenants: TenantsService,
    private readonly schedules: SchedulesService,
  ) {}

  @OnMessage(EVENT_TYPES.tenantUpserted)
  async upserted(@Payload() e: TenantUpsertedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    const companyId = tenantOf(e.companyId, ctx);
    if (e.version === undefined) {
      try {
        await this.tenants.upsertTenant({ companyId, timezone: e.timezone, locale: e.locale, name: e.name, active: e.active, paused: e.paused });
      } catch (err) {
        if (err instanceof TenantValidationError) throw new PermanentError(err.message);
        throw err;
      }
    }
    await this.schedules.onEvent(domainEvent(ctx));
  }

  @OnMessage(EVENT_TYPES.documentSettingsChanged)
  async documentSettings(@Payload() e: DocumentSettingsChangedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.tenants.applyScanHour(tenantOf(e.companyId, ctx), e.scanHour, e.version);
    await this.schedules.onEvent(domainEvent(ctx));
  }
}
