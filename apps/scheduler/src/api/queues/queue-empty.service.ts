import { Injectable } from '@nestjs/common';
import { JobControl, NatsConnectionService, PRIORITIES, STREAMS, type Priority } from '../../../../../libs/common/src/index.js';
import { AuditService, type AuditContext } from '../../audit/audit.service.js';
import { problems } from '../../http/problems.js';
import { QueueEmptyRepository } from './queue-empty.repository.js';

/** Planned runs due this soon may sit in a relay's in-process timer already: workers are told to cancel them too. */
const IN_PROCESS_WINDOW_MS = 2 * 60_000;

export interface EmptiedQueue {
  target: 'queue' | 'job';
  name: string;
  /** The JOBS subject filter purged. */
  subject: string;
  /** Waiting job messages removed from JetStream. */
  removed: number;
  /** Planned runs never published, cancelled. */
  cancelledPlanned: number;
}

/**
 * Empties a queue (one priority lane of every service) or one job's queue:
 * the waiting messages are purged from the JOBS work-queue stream by subject
 * filter, and planned runs not yet published are cancelled with their outbox
 * rows. The caller confirms by naming the queue or job; every emptying is
 * audited. Runs already running finish; a message a worker already pulled
 * and holds in memory is not recalled; schedules keep firing.
 */
@Injectable()
export class QueueEmptyService {
  constructor(
    private readonly repository: QueueEmptyRepository,
    private readonly nats: NatsConnectionService,
    private readonly control: JobControl,
    private readonly audit: AuditService,
  ) {}

  async empty(ctx: AuditContext, target: 'queue' | 'job', name: string, confirm: string | undefined): Promise<EmptiedQueue> {
    if (target === 'queue' && !(PRIORITIES as readonly string[]).includes(name)) throw problems.notFound(`Queue "${name.slice(0, 200)}"`);
    if (confirm !== name) {
      throw problems.badRequest(`Emptying removes every waiting job for good: confirm with the body {"confirm": "${name}"}`);
    }
    const subject = target === 'queue' ? `jobs.${name as Priority}.>` : `jobs.*.${name}`;
    const cancelled = await this.repository.cancelUnpublished(target === 'queue' ? { queue: name } : { job: name }, `cancelled: ${target} "${name}" emptied by ${ctx.principal.id}`);
    const jsm = await this.nats.jsm();
    const { purged } = await jsm.streams.purge(STREAMS.JOBS, { filter: subject });
    const soon = Date.now() + IN_PROCESS_WINDOW_MS;
    for (const c of cancelled) if (c.scheduledFor.getTime() <= soon) await this.control.requestCancel(c.id, c.companyId);
    const out: EmptiedQueue = { target, name, subject, removed: purged, cancelledPlanned: cancelled.length };
    await this.audit.record(ctx, { action: `${target}.empty`, targetType: target, targetId: name, before: null, after: out });
    return out;
  }
}
