import { Inject, Injectable } from '@nestjs/common';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import type { JobDeadEvent } from '../messaging/contracts/job-alerts.contract.js';
import { EventPublisher } from '../messaging/event-publisher.js';
import { alertScope, PLATFORM_EVENT_TYPES, PLATFORM_TENANT } from '../messaging/platform-scope.js';
import { publishRetrying } from '../messaging/publish-retrying.js';
import { EVENT_TYPES, STREAMS } from '../messaging/subjects.js';
import type { DeadLetterRecord } from './dead-letter.repository.js';

/** Reasons whose tenant is not to be trusted: the alert goes to the platform, not to the tenant the message claimed. */
const UNTRUSTED_TENANT = new Set(['tenant_mismatch', 'malformed']);

/** The job.dead event of a dead letter, and the scope (tenant or platform) it is published in. */
export function deadJobEvent(record: DeadLetterRecord): { scope: string; event: JobDeadEvent } {
  const scope = UNTRUSTED_TENANT.has(record.reason) ? PLATFORM_TENANT : alertScope(record.companyId);
  const event: JobDeadEvent = {
    runId: record.runId ?? record.id,
    job: record.messageType ?? 'unknown',
    error: record.error.slice(0, 5000),
    kind: record.stream === STREAMS.JOBS ? 'job' : 'event',
    consumer: record.consumer,
    reason: record.reason,
    attempts: record.attempts,
    deadLetterId: record.id,
    failedAt: record.lastFailedAt.toISOString(),
  };
  return { scope, event };
}

/**
 * One alert per dead-lettering by a consumer: a repeat of the same one is a
 * duplicate, a run dead again after a retry (more attempts) a new alert. An
 * unreadable message is one dead letter whichever consumers refused it.
 */
export function deadJobEventId(record: DeadLetterRecord): string {
  return record.reason === 'malformed' ? `dead-${record.id}` : `dead-${record.id}-${record.consumer}-${record.attempts}`;
}

/**
 * Tells people about a dead letter: publishes job.dead in the message's tenant
 * (events.<companyId>.job.dead) or, for a run without a tenant, in the platform
 * scope (events._platform.job.dead). A dead letter of an alert itself is not
 * alerted again (no loop). The dead letter is stored before this runs; a failed
 * publish is retried in the background and never fails the dead-lettering.
 */
@Injectable()
export class DeadJobPublisher {
  constructor(
    private readonly publisher: EventPublisher,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  async publish(record: DeadLetterRecord): Promise<void> {
    if (record.messageType && PLATFORM_EVENT_TYPES.includes(record.messageType)) return;
    const { scope, event } = deadJobEvent(record);
    await publishRetrying(this.publisher, this.log, { type: EVENT_TYPES.jobDead, companyId: scope, data: event, id: deadJobEventId(record) });
  }
}
