import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SecuredApi, Authorize, CurrentPrincipal, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { Audited, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { problems } from '../../http/problems.js';
import { EmptyBody, ListJobsPageQuery, ListJobsQuery, PauseBody, TriggerJobBody } from '../dto/api.dto.js';
import { QueueEmptyService } from '../queues/queue-empty.service.js';
import { decodeNameCursor, JOB_NAME, namePage } from '../dto/pagination.js';
import { writeTenant } from '../scope.js';
import { JobsService } from './jobs.service.js';

function jobName(job: string): string {
  if (!JOB_NAME.test(job) || job.length > 200) throw problems.notFound(`Job "${job.slice(0, 200)}"`);
  return job;
}

@ApiTags('jobs')
@SecuredApi()
@Controller('api/v1')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly emptier: QueueEmptyService,
  ) {}

  @Get('jobs')
  @Authorize('read')
  @ApiOperation({ summary: 'Jobs with status, last and next run, and run counts per state over the window' })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListJobsPageQuery) {
    const limit = q.limit ?? 500;
    return namePage(await this.jobs.list(p, q.windowHours, { after: decodeNameCursor(q.cursor), limit: limit + 1 }), limit, (j) => j.job);
  }

  @Get('jobs/:job')
  @Authorize('read')
  @ApiNotFoundResponse({ description: 'Unknown job, or not visible to the caller' })
  get(@CurrentPrincipal() p: Principal, @Param('job') job: string, @Query() q: ListJobsQuery) {
    return this.jobs.get(p, jobName(job), q.windowHours);
  }

  @Post('jobs/:job/trigger')
  @Audited('job.trigger')
  @HttpCode(202)
  @Authorize('write')
  @ApiOperation({ summary: 'Enqueue a run of the job now (or after delayMs) with a payload' })
  trigger(@Actor() ctx: AuditContext, @Param('job') job: string, @Body() body: TriggerJobBody) {
    const companyId = writeTenant(ctx.principal, body.companyId);
    return this.jobs.trigger(ctx, jobName(job), { ...body, companyId });
  }

  @Post('jobs/:job/pause')
  @Audited('job.pause')
  @HttpCode(200)
  @Authorize('platform')
  @ApiOperation({ summary: 'Pause a job on every worker (KV control bucket); queued work stays queued' })
  pause(@Actor() ctx: AuditContext, @Param('job') job: string, @Body() body: PauseBody) {
    return this.jobs.setPaused(ctx, 'job', jobName(job), true, body.reason);
  }

  @Post('jobs/:job/resume')
  @Audited('job.resume')
  @HttpCode(200)
  @Authorize('platform')
  resume(@Actor() ctx: AuditContext, @Param('job') job: string, @Body() body: PauseBody) {
    return this.jobs.setPaused(ctx, 'job', jobName(job), false, body.reason);
  }

  @Post('jobs/:job/empty')
  @Audited('job.empty')
  @HttpCode(200)
  @Authorize('platform')
  @ApiOperation({ summary: 'Remove every waiting message of the job from JetStream (all priorities) and cancel its unpublished planned runs; body {"confirm": "<job>"}' })
  async emptyJob(@Actor() ctx: AuditContext, @Param('job') job: string, @Body() body: EmptyBody) {
    await this.jobs.get(ctx.principal, jobName(job));
    return this.emptier.empty(ctx, 'job', job, body.confirm);
  }

  @Get('queues')
  @Authorize('read')
  @ApiOperation({ summary: 'Queues (priority lanes) and whether they are paused' })
  async queues() {
    return { items: await this.jobs.queues() };
  }

  @Post('queues/:queue/pause')
  @Audited('queue.pause')
  @HttpCode(200)
  @Authorize('platform')
  pauseQueue(@Actor() ctx: AuditContext, @Param('queue') queue: string, @Body() body: PauseBody) {
    return this.jobs.setPaused(ctx, 'queue', queue, true, body.reason);
  }

  @Post('queues/:queue/empty')
  @Audited('queue.empty')
  @HttpCode(200)
  @Authorize('platform')
  @ApiOperation({ summary: 'Remove every waiting message of the queue (priority lane) from JetStream and cancel its unpublished planned runs; body {"confirm": "<queue>"}' })
  emptyQueue(@Actor() ctx: AuditContext, @Param('queue') queue: string, @Body() body: EmptyBody) {
    return this.emptier.empty(ctx, 'queue', queue, body.confirm);
  }

  @Post('queues/:queue/resume')
  @Audited('queue.resume')
  @HttpCode(200)
  @Authorize('platform')
  resumeQueue(@Actor() ctx: AuditContext, @Param('queue') queue: string, @Body() body: PauseBody) {
    return this.jobs.setPaused(ctx, 'queue', queue, false, body.reason);
  }
}
