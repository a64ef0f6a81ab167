import { Injectable } from '@nestjs/common';
import { JobControl, LiveRuns, NatsConnectionService, PRIORITIES, STREAMS, type Priority } from '../../../../../libs/common/src/index.js';
import { AuditLog, type AuditActor as AuditContext } from '../../../../../libs/common/src/audit/index.js';
import { problems } from '../../http/problems.js';
import { QueueEmptyRepository } from './queue-empty.repository.js';

/** Planned runs due this soon may sit in a relay's in-process timer already: workers are told to cancel them too. */
const IN_PROCESS_WINDOW_MS = 2 * 60_000;
/**
 * Waiting messages at the front of the queue whose runs are cancelled before the purge. Workers pull the
 * oldest first, so a message a worker already holds in memory (waiting for a slot, held until due, parked
 * while paused) is among them: it is settled cancelled instead of running after the purge.
 */
export const RECALL_LIMIT = 2_000;

export interface EmptiedQueue {
  target: 'queue' | 'job';
  name: string;
  /** The JOBS subject filter purged. */
  subject: string;
  /** Waiting job messages removed from JetStream. */
  removed: number;
  /** Planned runs never published, cancelled. */
  cancelledPlanned: number;
  /** Waiting messages at the front whose runs workers were told to cancel (in case one holds it already). */
  recalled: number;
}

/**
 * Empties a queue (one priority lane of every service) or one job's queue:
 * the waiting messages are purged from the JOBS work-queue stream by subject
 * filter, and planned runs not yet published are cancelled with their outbox
 * rows. The caller confirms by naming the queue or job; every emptying is
 * audited. Runs running now (as their workers' last heartbeats list them) finish; the runs of the first RECALL_LIMIT
 * waiting messages are cancelled through the runs bucket first, so one a
 * worker already pulled and holds in memory settles cancelled instead of
 * running; schedules keep firing.
 */
@Injectable()
export class QueueEmptyService {
  constructor(
    private readonly repository: QueueEmptyRepository,
    private readonly nats: NatsConnectionService,
    private readonly control: JobControl,
    private readonly live: LiveRuns,
    private readonly audit: AuditLog,
  ) {}

  async empty(ctx: AuditContext, target: 'queue' | 'job', name: string, confirm: string | undefined): Promise<EmptiedQueue> {
    if (target === 'queue' && !(PRIORITIES as readonly string[]).includes(name)) throw problems.notFound(`Queue "${name.slice(0, 200)}"`);
    if (confirm !== name) {
      throw problems.badRequest(`Emptying removes every waiting job for good: confirm with the body {"confirm": "${name}"}`);
    }
    const subject = target === 'queue' ? `jobs.${name as Priority}.>` : `jobs.*.${name}`;
    // One transaction: the planned runs cancelled and the audit entry (with what the stream purge removed) commit
    // together; the recall and the purge act on JetStream inside it, so a failure before the entry leaves no entry.
    return this.audit.transaction(ctx, async (record) => {
      const cancelled = await this.repository.cancelUnpublished(target === 'queue' ? { queue: name } : { job: name }, `cancelled: ${target} "${name}" emptied by ${ctx.principal.id}`);
      const recalled = await this.recall(subject);
      const jsm = await this.nats.jsm();
      const { purged } = await jsm.streams.purge(STREAMS.JOBS, { filter: subject });
      const soon = Date.now() + IN_PROCESS_WINDOW_MS;
      for (const c of cancelled) if (c.scheduledFor.getTime() <= soon) await this.control.requestCancel(c.id, c.companyId);
      const out: EmptiedQueue = { target, name, subject, removed: purged, cancelledPlanned: cancelled.length, recalled };
      await record({ action: `${target}.empty`, targetType: target, targetId: name, before: null, after: out });
      return out;
    });
  }

  /** Asks workers to cancel the runs of the first waiting messages (not those running now: they finish). */
  private async recall(subject: string): Promise<number> {
    const [front, running] = await Promise.all([
      this.live.queued({ subject, limit: RECALL_LIMIT, scanLimit: RECALL_LIMIT }),
      this.live.running(),
    ]);
    const busy = new Set(running.map((r) => r.runId));
    const waiting = front.items.filter((q) => !busy.has(q.runId));
    for (let i = 0; i < waiting.length; i += 50) {
      await Promise.all(waiting.slice(i, i + 50).map((q) => this.control.requestCancel(q.runId, null)));
    }
    return waiting.length;
  }
}
