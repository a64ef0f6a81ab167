import { Body, Controller, Get, Put, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { problemValidationPipe, ProblemJsonFilter } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Tenant, TenantGuard, type TenantContext } from '../../../../libs/common/src/http/tenant.guard.js';
import { ExpirySettingsDto } from './dto/expiry-settings.dto.js';
import { SettingsService } from './settings.service.js';
import type { ExpirySettings } from './settings.types.js';

@Controller('api/v1/expiry-settings')
@UseGuards(TenantGuard)
@UseFilters(ProblemJsonFilter)
@UsePipes(problemValidationPipe())
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  get(@Tenant() tenant: TenantContext): Promise<ExpirySettings> {
    return this.settings.get(tenant.companyId);
  }

  @Put()
  put(@Tenant() tenant: TenantContext, @Body() body: ExpirySettingsDto): Promise<ExpirySettings> {
    return this.settings.put(tenant.companyId, body);
  }
}
