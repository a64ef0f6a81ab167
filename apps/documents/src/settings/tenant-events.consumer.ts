import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { EVENT_TYPES, JetStreamContext, OnMessage, PermanentError, TenantUpsertedEvent } from '../../../../libs/common/src/index.js';
import { SettingsService } from './settings.service.js';

/** documents-tenants: the tenant registry's announcements (versioned); an unversioned one is a request to the registry, not its word. */
@Controller()
export class TenantEventsConsumer {
  constructor(private readonly settings: SettingsService) {}

  @OnMessage(EVENT_TYPES.tenantUpserted)
  async upserted(@Payload() e: TenantUpsertedEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    const companyId = e.companyId ?? ctx.companyId;
    if (!companyId || (ctx.companyId && companyId !== ctx.companyId)) throw new PermanentError(`payload companyId "${companyId}" does not match the event's tenant "${ctx.companyId}"`);
    if (e.version === undefined) return;
    await this.settings.applyTenant(companyId, e.timezone, e.version);
  }
}
