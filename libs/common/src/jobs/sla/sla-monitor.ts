import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import type { Logger } from '../../logging/logger.js';
import { PLATFORM_TENANT, type JobSlaBreachedEvent } from '../../messaging/contracts/job-sla.contract.js';
import { errorText } from '../../messaging/errors.js';
import { EventPublisher } from '../../messaging/event-publisher.js';
import { EVENT_TYPES } from '../../messaging/subjects.js';
import { MetronomeMetrics } from '../../metrics/metrics.registry.js';
import { affectedRows } from '../dead-letter-tools.repository.js';
import type { JobSla, SlaBreachKind } from './sla.types.js';

export interface SlaRun {
  runId: string;
  job: string;
  companyId?: string;
  scheduledFor?: Date;
  /** 1 on the first attempt: lateness is judged on the first start only. */
  attempt: number;
  startedAt: Date;
}

/**
 * Watches runs against their job's SLA: lateness when an attempt starts (the
 * first), duration with a timer while it runs (so a stuck run breaches while
 * stuck, not when it finally ends). A breach is written once per run and kind
 * (job_sla_breaches), counted in
 * metronome_sla_breaches_total{job,kind} and published as job.sla_breached
 * on events.<companyId>.job.sla_breached (`_platform` for runs without a tenant).
 */
@Injectable()
export class SlaMonitor {
  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly log: Logger,
  ) {}

  /** A job's SLA, at start: each kind it declares counts breaches from 0, so rates and alerts see the series before the first breach. */
  declare(job: string, sla: JobSla): void {
    if (sla.maxDurationMs !== undefined) this.metrics.slaBreaches.inc({ job, kind: 'duration' }, 0);
    if (sla.maxLatenessMs !== undefined) this.metrics.slaBreaches.inc({ job, kind: 'lateness' }, 0);
  }

  /** Checks lateness now and arms the duration timer; call the returned function when the attempt ends. */
  watch(run: SlaRun, sla: JobSla | undefined): () => void {
    if (!sla) return () => undefined;
    if (sla.maxLatenessMs !== undefined && run.attempt === 1 && run.scheduledFor) {
      const late = run.startedAt.getTime() - run.scheduledFor.getTime();
      if (late > sla.maxLatenessMs) void this.breach(run, 'lateness', sla.maxLatenessMs, late);
    }
    if (sla.maxDurationMs === undefined) return () => undefined;
    // The timer itself waited maxDurationMs (on the monotonic clock); the wall clock read against startedAt
    // can come out a millisecond short of it, which would report a breach below its own limit.
    const timer = setTimeout(
      () => void this.breach(run, 'duration', sla.maxDurationMs!, Math.max(sla.maxDurationMs!, Date.now() - run.startedAt.getTime())),
      sla.maxDurationMs,
    );
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** Records, counts and publishes one breach; a second breach of the same kind on the same run is ignored. Never throws. */
  async breach(run: SlaRun, kind: SlaBreachKind, limitMs: number, observedMs: number): Promise<boolean> {
    const at = new Date();
    try {
      const rows = affectedRows<{ run_id: string }>(await this.dataSource.query(
        `INSERT INTO job_sla_breaches (run_id, kind, job, company_id, limit_ms, observed_ms, breached_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING RETURNING run_id`,
        [run.runId, kind, run.job, run.companyId ?? null, limitMs, Math.max(0, Math.round(observedMs)), at.toISOString()],
      ));
      if (rows.length === 0) return false;
      this.metrics.slaBreaches.inc({ job: run.job, kind });
      this.log.warn({ runId: run.runId, job: run.job, companyId: run.companyId, kind, limitMs, observedMs: Math.round(observedMs) }, 'SLA breached');
      const event: JobSlaBreachedEvent = {
        runId: run.runId,
        job: run.job,
        companyId: run.companyId,
        kind,
        limitMs,
        observedMs: Math.max(0, Math.round(observedMs)),
        scheduledFor: run.scheduledFor?.toISOString(),
        breachedAt: at.toISOString(),
      };
      // One event per run and kind, whoever sees it: the id makes a repeat a JetStream duplicate.
      await this.publisher.publishEvent(EVENT_TYPES.jobSlaBreached, run.companyId ?? PLATFORM_TENANT, event, { id: `sla-${kind}-${run.runId}` });
      return true;
    } catch (e) {
      this.log.error({ runId: run.runId, job: run.job, kind, error: errorText(e) }, 'could not record SLA breach');
      return false;
    }
  }
}
