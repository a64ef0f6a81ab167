import { Inject, Injectable } from '@nestjs/common';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import type { JobTimedOutEvent } from '../../messaging/contracts/job-alerts.contract.js';
import { EventPublisher } from '../../messaging/event-publisher.js';
import { alertScope } from '../../messaging/platform-scope.js';
import { publishRetrying } from '../../messaging/publish-retrying.js';
import { EVENT_TYPES } from '../../messaging/subjects.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';

export interface TimedOutAttempt {
  runId: string;
  job: string;
  companyId?: string;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number;
}

/**
 * Counts (metronome_job_timeouts_total) and publishes job.timed_out when the
 * job runtime aborts an attempt at its timeout: on events.<companyId>.job.timed_out,
 * or events._platform.job.timed_out for a run without a tenant. Fire and
 * forget: the retry does not wait for it.
 */
@Injectable()
export class JobTimeoutPublisher {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  /** A job this process runs: its timeouts count from 0. */
  declare(job: string): void {
    this.metrics.jobTimeouts.inc({ job }, 0);
  }

  timedOut(a: TimedOutAttempt): void {
    this.metrics.jobTimeouts.inc({ job: a.job });
    const event: JobTimedOutEvent = {
      runId: a.runId,
      job: a.job,
      companyId: a.companyId,
      attempt: a.attempt,
      maxAttempts: a.maxAttempts,
      timeoutMs: a.timeoutMs,
      final: a.attempt >= a.maxAttempts,
      timedOutAt: new Date().toISOString(),
    };
    void publishRetrying(this.publisher, this.log, { type: EVENT_TYPES.jobTimedOut, companyId: alertScope(a.companyId), data: event, id: `timeout-${a.runId}-${a.attempt}` });
  }
}
