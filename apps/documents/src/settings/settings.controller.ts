import { Body, Controller, Get, Put } from '@nestjs/common';
import { Actor, Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { Audited, AuditLog, type AuditActor } from '../../../../libs/common/src/audit/index.js';
import { ExpirySettingsDto } from './dto/expiry-settings.dto.js';
import { SettingsService } from './settings.service.js';
import type { ExpirySettings } from './settings.types.js';

@Controller('api/v1/expiry-settings')
@SecuredApi()
export class SettingsController {
  constructor(
    private readonly settings: SettingsService,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @Authorize('read')
  get(@Tenant() tenant: TenantContext): Promise<ExpirySettings> {
    return this.settings.get(tenant.companyId);
  }

  @Put()
  @Audited('expiry-settings.put')
  @Authorize('write')
  put(@Actor() a: AuditActor, @Tenant() tenant: TenantContext, @Body() body: ExpirySettingsDto): Promise<ExpirySettings> {
    return this.audit.change(a, { action: 'expiry-settings.put', targetType: 'expiry-settings', targetId: tenant.companyId, companyId: tenant.companyId, before: () => this.settings.get(tenant.companyId) },
      () => this.settings.put(tenant.companyId, body));
  }
}
