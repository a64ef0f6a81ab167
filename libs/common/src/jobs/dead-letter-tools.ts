import { randomUUID } from 'node:crypto';
import { savepoint } from '../audit/ambient-transaction.js';
import { Inject, Injectable } from '@nestjs/common';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { parseCloudEvent, type CloudEvent } from '../messaging/cloud-event.js';
import { errorText, PermanentError } from '../messaging/errors.js';
import { EventPublisher } from '../messaging/event-publisher.js';
import { HEADERS } from '../messaging/subjects.js';
import { DeadLetterToolsRepository, type DeadLetterFilter, type DeadLetterRow } from './dead-letter-tools.repository.js';
import { jobMessageOf } from './runtime/delivery.js';
import { DEFAULT_JOB_MAX_ATTEMPTS } from './runtime/job-spec.js';

export type { DeadLetterFilter, DeadLetterRow } from './dead-letter-tools.repository.js';

export interface DeadLetterInspection {
  deadLetter: DeadLetterRow;
  /** The stored message parsed as a CloudEvent, or null when it was not one. */
  event: CloudEvent | null;
  /** The dead run: its latest attempt in the run history, else its planned job_runs row; null when neither exists. */
  run: Record<string, unknown> | null;
  /** Every attempt the run history holds, first to last (errors of each). */
  attempts: Record<string, unknown>[];
}

export interface RetriedRun {
  deadLetterId: string;
  /** The new run (fresh attempts, retry_of = the dead run). */
  runId: string;
  published: boolean;
}

export class DeadLetterNotFoundError extends Error {
  constructor(id: string) {
    super(`no dead letter "${id}"`);
    this.name = 'DeadLetterNotFoundError';
  }
}

/**
 * Operator tools over the dead_letters table: list by job, tenant and error;
 * inspect; retry one or all matching (each as a new run with fresh attempts,
 * linked to the dead run through job_runs.retry_of, planned with its outbox
 * row so a crash before the publish is relayed later); purge.
 */
@Injectable()
export class DeadLetterTools {
  constructor(
    private readonly repository: DeadLetterToolsRepository,
    private readonly publisher: EventPublisher,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  list(filter: DeadLetterFilter = {}, page: { limit?: number; before?: { createdAt: Date; id: string } } = {}): Promise<DeadLetterRow[]> {
    return this.repository.list(filter, { limit: Math.min(Math.max(page.limit ?? 100, 1), 1_000), before: page.before });
  }

  async inspect(id: string): Promise<DeadLetterInspection> {
    const deadLetter = await this.repository.get(id);
    if (!deadLetter) throw new DeadLetterNotFoundError(id);
    let event: CloudEvent | null = null;
    try {
      event = parseCloudEvent(Buffer.from(deadLetter.payload), 2 * 1024 * 1024);
    } catch {
      event = null;
    }
    const runId = deadLetter.runId ?? deadLetter.id;
    const [run, attempts] = await Promise.all([this.repository.run(runId), this.repository.attempts(runId)]);
    return { deadLetter, event, run, attempts };
  }

  /** Retries one dead job run; null when it was already retried. */
  async retry(id: string): Promise<RetriedRun | null> {
    const planned = await this.repository.transaction(async (tx) => {
      const dead = await this.repository.get(id, tx, true);
      if (!dead) throw new DeadLetterNotFoundError(id);
      if (dead.retriedAt) return null;
      if (!dead.subject.startsWith('jobs.')) throw new PermanentError(`dead letter "${id}" is not a job (${dead.subject}): only jobs are retried as new runs`);
      let event: CloudEvent;
      try {
        event = parseCloudEvent(Buffer.from(dead.payload), 2 * 1024 * 1024);
      } catch (e) {
        throw new PermanentError(`dead letter "${id}" holds no CloudEvent (${errorText(e)}): nothing to retry`);
      }
      const runId = randomUUID();
      const now = new Date();
      const { payload, companyId } = jobMessageOf(event);
      const data = event.data as Record<string, unknown> | null;
      const isJobMessage = !!data && typeof data === 'object' && typeof data.runId === 'string' && 'payload' in data;
      const body: CloudEvent = {
        ...event,
        id: runId,
        time: now.toISOString(),
        data: isJobMessage ? { ...data, runId, scheduledFor: now.toISOString(), planned: true } : { runId, payload: event.data, scheduledFor: now.toISOString(), planned: true },
      };
      const headers = { [HEADERS.runId]: runId, [HEADERS.scheduledFor]: now.toISOString() };
      const maxAttempts = (await this.repository.maxAttemptsOf(dead.runId ?? dead.id)) ?? DEFAULT_JOB_MAX_ATTEMPTS;
      await this.repository.planRetry(tx, dead, {
        runId,
        job: event.type,
        priority: dead.subject.split('.')[1] ?? 'normal',
        companyId: companyId ?? null,
        maxAttempts,
        payload,
        scheduledFor: now,
        body,
        headers,
      });
      return { dead, runId, body, headers };
    });
    if (!planned) return null;
    let published = false;
    try {
      await this.publisher.publishEnvelope(planned.dead.subject, planned.body, planned.headers);
      // A savepoint inside an audited retry: if marking fails the relay publishes it, and the retry still commits.
      await savepoint(() => this.repository.markPublished(planned.runId));
      published = true;
    } catch (e) {
      this.logger.warn({ deadLetterId: id, runId: planned.runId, error: errorText(e) }, 'retry planned but not published yet; the outbox relay publishes it');
    }
    this.logger.info({ deadLetterId: id, runId: planned.runId, retryOf: planned.dead.runId ?? id }, 'dead job retried as a new run');
    return { deadLetterId: id, runId: planned.runId, published };
  }

  /** Retries every dead job matching the filter (not yet retried), page by page. */
  async retryAll(filter: DeadLetterFilter): Promise<RetriedRun[]> {
    const out: RetriedRun[] = [];
    let before: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const page = await this.repository.list({ ...filter, includeRetried: false }, { limit: 200, before });
      if (page.length === 0) break;
      for (const d of page) {
        if (!d.subject.startsWith('jobs.')) continue;
        const r = await this.retry(d.id);
        if (r) out.push(r);
      }
      const last = page[page.length - 1];
      before = { createdAt: last.createdAt, id: last.id };
    }
    return out;
  }

  /** Deletes matching dead letters (retried ones included); returns how many. */
  purge(filter: DeadLetterFilter): Promise<number> {
    if (!filter.job && !filter.companyId && !filter.error && !filter.reason && !filter.consumer && !filter.ids) {
      throw new PermanentError('purge needs a filter (job, companyId, error, reason, consumer or ids)');
    }
    return this.repository.purge(filter);
  }
}
