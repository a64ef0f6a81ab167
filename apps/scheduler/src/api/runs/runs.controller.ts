import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SecuredApi, Authorize, CurrentPrincipal, seesInternals, type Principal } from '../../../../../libs/common/src/auth/index.js';
import { AuditLog, Audited, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { problems } from '../../http/problems.js';
import { CleanupBody, ListRunsQuery } from '../dto/api.dto.js';
import { dateOrUndefined, decodeCursor, page } from '../dto/pagination.js';
import { effectiveTenant, writeTenant } from '../scope.js';
import { RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';
import { RunActionsService } from './run-actions.service.js';
import { JobStepsRepository, redactEncrypted, RunCanceller } from '../../../../../libs/common/src/index.js';

const DAY = 86_400_000;

@ApiTags('runs')
@SecuredApi()
@Controller('api/v1/runs')
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly history: RunsRepository,
    private readonly audit: AuditLog,
    private readonly steps: JobStepsRepository,
    private readonly canceller: RunCanceller,
    private readonly actions: RunActionsService,
  ) {}

  @Get()
  @Authorize('read')
  @ApiOperation({ summary: 'Runs, newest first: running (workers), queued (JetStream, when asked for), planned and finished; filter by job, state, tenant, schedule and time; keyset (cursor) or offset pages' })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ListRunsQuery) {
    const { scope, foreign } = effectiveTenant(p, q.companyId);
    const limit = q.limit ?? 50;
    if (foreign) return { items: [], nextCursor: null };
    const cursor = decodeCursor(q.cursor);
    const items = await this.runs.list({
      scope, job: q.job, states: q.state?.split(','), scheduleId: q.scheduleId, from: dateOrUndefined(q.from), to: dateOrUndefined(q.to),
      cursor, offset: cursor ? undefined : q.offset, limit,
    });
    // Sensitive (encrypted) payload fields show as "[redacted]" (docs/durability.md).
    return page(redactEncrypted(items), limit);
  }

  @Get(':id')
  @Authorize('read')
  @ApiOperation({ summary: 'One run with its progress, error, result and every attempt' })
  @ApiNotFoundResponse({ description: 'No such run for the caller' })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    const run = id.length <= 200 ? await this.runs.get(id, effectiveTenant(p).scope) : null;
    if (!run) throw problems.notFound(`Run "${id.slice(0, 200)}"`);
    // Stack frames only for the roles that may act on the run (seesInternals: not viewers); durable steps completed so far; sensitive (encrypted) values as "[redacted]" (docs/durability.md).
    const attemptHistory = seesInternals(p) ? run.attemptHistory : run.attemptHistory.map(({ stack: _stack, ...attempt }) => attempt);
    return redactEncrypted({ ...run, attemptHistory, steps: await this.steps.forRun(id, effectiveTenant(p).scope) });
  }

  @Post(':id/cancel')
  @Audited('run.cancel')
  @HttpCode(200)
  @Authorize('write')
  @ApiOperation({ summary: 'Cancel a scheduled, queued, running or retrying run: a waiting run is settled cancelled without running, a running one has its signal aborted' })
  @ApiNotFoundResponse({ description: 'No such run for the caller' })
  async cancel(@Actor() ctx: AuditContext, @Param('id') id: string) {
    return this.audit.transaction(ctx, async (record) => {
      const { scope } = effectiveTenant(ctx.principal);
      const run = id.length <= 200 ? await this.runs.get(id, scope) : null;
      if (!run) throw problems.notFound(`Run "${id.slice(0, 200)}"`);
      // A planned run is flagged in job_runs; every worker is told through the runs bucket (tenant-checked there too).
      const previous = await this.canceller.cancel(id, scope === null ? {} : { companyId: scope });
      if (previous === null) throw problems.conflict(`Run "${id}" is already finished (${run.state})`);
      await record({
        action: 'run.cancel', targetType: 'run', targetId: id, companyId: run.companyId ?? null,
        before: { state: previous }, after: { state: 'cancelled' },
      });
      return { id, previousState: previous, state: 'cancelled' };
    });
  }

  @Post(':id/retry')
  @Audited('run.retry')
  @HttpCode(202)
  @Authorize('write')
  @ApiOperation({ summary: 'Retry a failed or dead run: a new run of the same job, tenant, priority and payload with fresh attempts, linked by retryOf (a dead run\'s dead letter is retried with it); once per run' })
  @ApiNotFoundResponse({ description: 'No such run for the caller' })
  @ApiConflictResponse({ description: 'The run did not fail, or was already retried' })
  retry(@Actor() ctx: AuditContext, @Param('id') id: string) {
    return this.actions.retry(ctx, id);
  }

  @Delete(':id')
  @Audited('run.delete')
  @Authorize('write')
  @ApiOperation({ summary: 'Delete a finished run: its attempts, planned row and step results (the per-minute rollup keeps its counts)' })
  @ApiNotFoundResponse({ description: 'No such run for the caller' })
  @ApiConflictResponse({ description: 'The run is running, waiting or retrying' })
  remove(@Actor() ctx: AuditContext, @Param('id') id: string) {
    return this.actions.remove(ctx, id);
  }

  @Post('cleanup')
  @Audited('runs.cleanup')
  @HttpCode(200)
  @Authorize('platform')
  @ApiOperation({ summary: 'Delete finished runs older than N days (failed and dead ones only with includeFailed)' })
  async cleanup(@Actor() ctx: AuditContext, @Body() body: CleanupBody) {
    return this.audit.transaction(ctx, async (record) => {
      const before = new Date(Date.now() - body.olderThanDays * DAY);
      // A system-admin acting for a tenant cleans that tenant's runs only.
      const companyId = writeTenant(ctx.principal, body.companyId) ?? null;
      const deleted = await this.history.deleteFinished(before, body.includeFailed ?? false, companyId);
      await record({
        action: 'runs.cleanup', targetType: 'runs', companyId,
        before: { olderThanDays: body.olderThanDays, includeFailed: body.includeFailed ?? false, before }, after: { deleted },
      });
      return { deleted, before };
    });
  }
}
