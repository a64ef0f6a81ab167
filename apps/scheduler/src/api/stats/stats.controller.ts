import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Authorize, CurrentPrincipal, SecuredApi, tenantScope, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { StatsService } from '../../stats/stats.service.js';
import { STATS_RANGES, type StatsRange } from '../../stats/stats.types.js';
import { JOB_NAME, TOKEN } from '../dto/pagination.js';
import { effectiveTenant } from '../scope.js';

export class TimeSeriesQuery {
  @ApiProperty({ enum: STATS_RANGES, description: '1h: 1-minute buckets; 24h: 15-minute; 7d: 1-hour' })
  @IsIn(STATS_RANGES) range: StatsRange;
  @ApiPropertyOptional({ description: 'One job (default: every job)' }) @IsOptional() @IsString() @Matches(JOB_NAME) @MaxLength(200) job?: string;
  @ApiPropertyOptional({ description: 'One tenant (platform callers; others always see their own)' }) @IsOptional() @IsString() @Matches(TOKEN) companyId?: string;
}

@ApiTags('stats')
@SecuredApi()
@Controller('api/v1/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('timeseries')
  @Authorize('read')
  @ApiOperation({
    summary: 'Chart series over 1 h, 24 h or 7 d: runs by outcome and p50/p95 duration per bucket (tenant-scoped); queue depth and lag of the JOBS consumers (platform callers only)',
  })
  async timeseries(@CurrentPrincipal() p: Principal, @Query() q: TimeSeriesQuery) {
    const { scope, foreign } = effectiveTenant(p, q.companyId);
    // A tenant caller asking about another tenant sees an empty series, as lists answer empty.
    return this.stats.timeseries({ range: q.range, job: q.job, companyId: scope, withQueue: tenantScope(p) === null, empty: foreign });
  }
}
