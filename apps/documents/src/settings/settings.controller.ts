import { Body, Controller, Get, Put } from '@nestjs/common';
import { Authorize, SecuredApi, Tenant, type TenantContext } from '../../../../libs/common/src/auth/index.js';
import { ExpirySettingsDto } from './dto/expiry-settings.dto.js';
import { SettingsService } from './settings.service.js';
import type { ExpirySettings } from './settings.types.js';

@Controller('api/v1/expiry-settings')
@SecuredApi()
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @Authorize('read')
  get(@Tenant() tenant: TenantContext): Promise<ExpirySettings> {
    return this.settings.get(tenant.companyId);
  }

  @Put()
  @Authorize('write')
  put(@Tenant() tenant: TenantContext, @Body() body: ExpirySettingsDto): Promise<ExpirySettings> {
    return this.settings.put(tenant.companyId, body);
  }
}
