import { Injectable } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { DeadLetterTools, NatsConnectionService, PermanentError } from '../../../../../libs/common/src/index.js';
import { AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { tenantScope } from '../../../../../libs/common/src/auth/index.js';
import { problems } from '../../http/problems.js';
import { DlqRepository, type DeadLetterFilter, type DeadLetterView } from './dlq.repository.js';
import { JobAccess } from '../job-access.js';

/** The job of a dead job message (jobs.<priority>.<job>), or null for a dead event. */
function jobOf(d: DeadLetterView): string | null {
  if (!d.subject.startsWith('jobs.')) return null;
  return d.messageType ?? d.subject.split('.').slice(2).join('.');
}

/** Headers JetStream sets or checks itself; a retry must not carry them over. */
const DROPPED = /^nats-(msg-id|expected-|rollup|ttl)/i;

export interface RetryOutcome {
  retried: string[];
  /** The new run of each retried job dead letter (retry_of = the dead run). */
  runs: { deadLetterId: string; runId: string }[];
  failed: { id: string; error: string }[];
}

/**
 * The admin API's dead letters: list and inspect (tenant-scoped), retry and
 * purge. A dead job is retried through the job runtime's DeadLetterTools: a
 * fresh run with fresh attempts, linked to the dead run by job_runs.retry_of and
 * planned with its outbox row, so the dead run stays dead in the history. A dead
 * event (no run) is re-published to its subject. Every change is audited.
 */
@Injectable()
export class DlqService {
  constructor(
    private readonly repository: DlqRepository,
    private readonly tools: DeadLetterTools,
    private readonly nats: NatsConnectionService,
    private readonly audit: AuditLog,
    private readonly access: JobAccess,
  ) {}

  list(filter: DeadLetterFilter): Promise<DeadLetterView[]> {
    return this.repository.list(filter);
  }

  async get(id: string, scope: string | null): Promise<DeadLetterView> {
    const d = id.length <= 200 ? await this.repository.get(id, scope) : null;
    if (!d) throw problems.notFound(`Dead letter "${id.slice(0, 200)}"`);
    return d;
  }

  async retryOne(ctx: AuditContext, id: string): Promise<DeadLetterView & { newRunId: string | null }> {
    const d = await this.get(id, tenantScope(ctx.principal));
    const job = jobOf(d);
    if (job) this.access.assert(ctx.principal, job, 'retry');
    if (d.retriedAt) throw problems.conflict(`Dead letter "${id}" was already retried at ${d.retriedAt.toISOString()}`);
    const outcome = await this.retry(ctx, [d]);
    if (outcome.failed.length) throw problems.conflict(`Dead letter "${id}" could not be retried: ${outcome.failed[0].error}`);
    return { ...d, retriedAt: new Date(), newRunId: outcome.runs[0]?.runId ?? null };
  }

  async retryMatching(ctx: AuditContext, filter: Omit<DeadLetterFilter, 'limit' | 'status' | 'cursor'>, max: number): Promise<RetryOutcome & { matched: number }> {
    // Asking for a declared job the caller may not run is refused outright (a filter may also name an event type); a mixed match skips those letters.
    if (filter.messageType && this.access.declared(filter.messageType)) this.access.assert(ctx.principal, filter.messageType, 'retry');
    const items = await this.repository.list({ ...filter, status: 'pending', limit: max });
    const refused: RetryOutcome['failed'] = [];
    const allowed = items.filter((d) => {
      const job = jobOf(d);
      const reason = job ? this.access.refusal(ctx.principal, job, 'retry') : null;
      if (reason) refused.push({ id: d.id, error: reason });
      return !reason;
    });
    const outcome = await this.retry(ctx, allowed);
    return { matched: items.length, ...outcome, failed: [...refused, ...outcome.failed] };
  }

  private async retry(ctx: AuditContext, items: DeadLetterView[]): Promise<RetryOutcome> {
    const outcome: RetryOutcome = { retried: [], runs: [], failed: [] };
    for (const d of items) {
      try {
        // One transaction per dead letter: its retry and its audit entry commit together.
        await this.audit.transaction(ctx, async (record) => {
          if (d.subject.startsWith('jobs.')) {
            const run = await this.tools.retry(d.id);
            if (!run) {
              outcome.failed.push({ id: d.id, error: 'already retried' });
              record.nothingChanged();
              return;
            }
            await record({
              action: 'dlq.retry', targetType: 'dead-letter', targetId: d.id, companyId: d.companyId,
              before: { retriedAt: null, attempts: d.attempts, reason: d.reason, runId: d.runId },
              after: { retriedAt: new Date(), subject: d.subject, runId: run.runId, retryOf: d.runId, published: run.published },
            });
            outcome.retried.push(d.id);
            outcome.runs.push({ deadLetterId: d.id, runId: run.runId });
          } else {
            await this.republish(d);
            await record({
              action: 'dlq.retry', targetType: 'dead-letter', targetId: d.id, companyId: d.companyId,
              before: { retriedAt: null, attempts: d.attempts, reason: d.reason }, after: { retriedAt: new Date(), subject: d.subject },
            });
            outcome.retried.push(d.id);
          }
        });
      } catch (e) {
        outcome.failed.push({ id: d.id, error: e instanceof PermanentError ? e.message : 'retry failed' });
      }
    }
    return outcome;
  }

  /** A dead event has no run: it goes back to its subject (fresh deliveries on its consumer). */
  private async republish(d: DeadLetterView): Promise<void> {
    const js = await this.nats.js();
    const at = new Date();
    const h = natsHeaders();
    for (const [k, values] of Object.entries(d.headers ?? {})) if (!DROPPED.test(k)) for (const v of values) h.append(k, v);
    await js.publish(d.subject, new TextEncoder().encode(d.payload), { headers: h, msgID: `retry-${d.id}-${at.getTime()}` });
    await this.repository.markRetried([d.id], at);
  }

  /**
   * Purges by ids through DeadLetterTools (tenant-scoped by companyId); by a
   * filter with the API's wider criteria (time range, retried or not) here.
   */
  async purge(ctx: AuditContext, input: { ids?: string[]; filter?: Omit<DeadLetterFilter, 'limit' | 'cursor'> }): Promise<{ deleted: number }> {
    return this.audit.transaction(ctx, async (record) => {
      const scope = tenantScope(ctx.principal);
      let deleted: number;
      if (input.ids) deleted = input.ids.length ? await this.tools.purge({ ids: input.ids, includeRetried: true, ...(scope !== null ? { companyId: scope } : {}) }) : 0;
      else deleted = await this.repository.deleteMatching(input.filter!);
      await record({
        action: 'dlq.purge', targetType: 'dead-letter', targetId: input.ids?.length === 1 ? input.ids[0] : null,
        companyId: scope ?? input.filter?.companyId ?? null, before: input.ids ? { ids: input.ids } : { filter: input.filter }, after: { deleted },
      });
      return { deleted };
    });
  }
}
