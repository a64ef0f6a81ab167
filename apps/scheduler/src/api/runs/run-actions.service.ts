import { Injectable } from '@nestjs/common';
import { JobEnqueuer, parsePriority, type JobOptions } from '../../../../../libs/common/src/index.js';
import { tenantScope } from '../../../../../libs/common/src/auth/index.js';
import { afterCommit, AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { problems } from '../../http/problems.js';
import { DlqService } from '../dlq/dlq.service.js';
import { JobAccess } from '../job-access.js';
import { RunActionsRepository, type DeletedRun } from './run-actions.repository.js';
import { RunsService } from './runs.service.js';

/** Outcomes a run may be retried from. */
export const RETRYABLE_STATES = ['failed', 'dead'];
/** Outcomes a run may be deleted in: it is over, nothing of it waits in JetStream or runs. */
export const DELETABLE_STATES = ['succeeded', 'failed', 'dead', 'cancelled', 'lost'];

export interface RetriedRun {
  /** The failed run. */
  id: string;
  /** The new run (fresh attempts; job_runs.retry_of = id). */
  newRunId: string;
  job: string;
  state: string;
  /** The dead letter retried with it, when the run was dead-lettered. */
  deadLetterId: string | null;
}

/**
 * Retry and delete of one run through the admin API. A retry is a new run of
 * the same job, tenant, priority and payload with fresh attempts, linked to
 * the failed one by job_runs.retry_of, like a dead-letter retry (a dead run's
 * pending dead letter is retried, so it is marked retried too); a run is
 * retried once. Deleting removes a finished run's attempts, planned row and
 * step results; a run still running, waiting or retrying is refused (409).
 * Both are audited.
 */
@Injectable()
export class RunActionsService {
  constructor(
    private readonly runs: RunsService,
    private readonly repository: RunActionsRepository,
    private readonly enqueuer: JobEnqueuer,
    private readonly dlq: DlqService,
    private readonly access: JobAccess,
    private readonly audit: AuditLog,
  ) {}

  private async find(id: string, scope: string | null) {
    const run = id.length <= 200 ? await this.runs.get(id, scope) : null;
    if (!run) throw problems.notFound(`Run "${id.slice(0, 200)}"`);
    return run;
  }

  async retry(ctx: AuditContext, id: string): Promise<RetriedRun> {
    const scope = tenantScope(ctx.principal);
    const run = await this.find(id, scope);
    this.access.assert(ctx.principal, run.job, 'retry');
    if (!RETRYABLE_STATES.includes(run.state)) throw problems.conflict(`Run "${id}" is ${run.state}: only a ${RETRYABLE_STATES.join(' or ')} run is retried`);

    const deadLetterId = await this.repository.pendingDeadLetter(id, scope);
    if (deadLetterId) {
      // The dead-letter retry plans the new run (retry_of = this run), marks the letter retried and audits it.
      const retried = await this.dlq.retryOne(ctx, deadLetterId);
      if (!retried.newRunId) throw problems.conflict(`Run "${id}" could not be retried`);
      const out: RetriedRun = { id, newRunId: retried.newRunId, job: run.job, state: 'queued', deadLetterId };
      await this.audit.transaction(ctx, (record) => record({ action: 'run.retry', targetType: 'run', targetId: id, companyId: run.companyId, before: { state: run.state }, after: out }));
      return out;
    }

    const options = ((await this.repository.plannedOptions(id)) ?? {}) as Partial<JobOptions>;
    // The new run, its link and the audit entry commit together; the run is published after the commit.
    return this.audit.transaction(ctx, async (record) => {
      const retried = await this.repository.transaction(async (tx) => {
        await this.repository.lockRetries(tx, id);
        const earlier = await this.repository.retriedAs(tx, id);
        if (earlier) return { earlier };
        const { runs, publish } = await this.enqueuer.enqueueInTransaction(tx, [{
          job: run.job,
          payload: run.payload ?? {},
          options: {
            companyId: run.companyId ?? undefined,
            priority: parsePriority(run.priority) ?? 'normal',
            ...(run.maxAttempts ? { maxAttempts: run.maxAttempts } : {}),
            ...(options.backoff ? { backoff: options.backoff } : {}),
            ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
            // A run id of its own takes the planned path: the new run has a job_runs row to link.
            runId: crypto.randomUUID(),
          },
        }]);
        await this.repository.linkRetry(tx, runs[0].runId, id);
        return { run: runs[0], publish };
      });
      if ('earlier' in retried) throw problems.conflict(`Run "${id}" was already retried as run "${retried.earlier}"`);
      // A publish that fails is left to the outbox relay.
      afterCommit(() => void retried.publish().catch(() => undefined));
      const out: RetriedRun = { id, newRunId: retried.run.runId, job: run.job, state: retried.run.state, deadLetterId: null };
      await record({ action: 'run.retry', targetType: 'run', targetId: id, companyId: run.companyId, before: { state: run.state, attempts: run.attempts }, after: out });
      return out;
    });
  }

  async remove(ctx: AuditContext, id: string): Promise<{ id: string; deleted: DeletedRun }> {
    const scope = tenantScope(ctx.principal);
    const run = await this.find(id, scope);
    if (!DELETABLE_STATES.includes(run.state)) {
      throw problems.conflict(`Run "${id}" is ${run.state}: only a finished run is deleted (cancel it first)`);
    }
    return this.audit.transaction(ctx, async (record) => {
      const deleted = await this.repository.deleteFinished(id, scope);
      await record({
        action: 'run.delete', targetType: 'run', targetId: id, companyId: run.companyId,
        before: { job: run.job, state: run.state, attempts: run.attempts, finishedAt: run.finishedAt, error: run.error }, after: { deleted },
      });
      return { id, deleted };
    });
  }
}
