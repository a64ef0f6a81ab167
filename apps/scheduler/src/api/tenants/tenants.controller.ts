import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Actor, Authorize, CurrentPrincipal, SecuredApi, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { Audited, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { ListTenantsQuery, TenantCreateBody, TenantPatchBody } from './tenant.dto.js';
import { TenantsApiService } from './tenants-api.service.js';

@ApiTags('tenants')
@SecuredApi()
@Controller('api/v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsApiService) {}

  @Get()
  @Authorize('read')
  @ApiOperation({ summary: 'Tenants by company id, keyset-paginated (tenant callers: their own)' })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListTenantsQuery) {
    return this.tenants.list(p, q);
  }

  @Post()
  @Audited('tenant.create')
  @Authorize('platform')
  @ApiOperation({ summary: 'Register a tenant: announced as tenant.upserted, its platform schedules start at once' })
  @ApiConflictResponse({ description: 'The company is registered already (problem+json)' })
  @ApiUnprocessableEntityResponse({ description: 'Unknown timezone or locale (problem+json with errors)' })
  create(@Actor() ctx: AuditContext, @Body() body: TenantCreateBody) {
    return this.tenants.create(ctx, body);
  }

  @Get(':companyId')
  @Authorize('read')
  @ApiNotFoundResponse({ description: 'Unknown tenant, or another tenant than the caller\'s' })
  get(@CurrentPrincipal() p: Principal, @Param('companyId') companyId: string) {
    return this.tenants.get(p, companyId);
  }

  @Patch(':companyId')
  @Audited('tenant.change')
  @Authorize('write')
  @ApiOperation({ summary: 'Change a tenant (system-admin: any field; tenant-admin: its own timezone and locale)' })
  @ApiUnprocessableEntityResponse({ description: 'Unknown timezone or locale (problem+json with errors)' })
  change(@Actor() ctx: AuditContext, @Param('companyId') companyId: string, @Body() body: TenantPatchBody) {
    return this.tenants.change(ctx, companyId, body);
  }
}
