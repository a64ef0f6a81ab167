import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, Clock, RetentionPurger, ROOT_LOGGER, type AppConfig, type Logger, type PurgeCounts } from '../../../../libs/common/src/index.js';
import { AuditLog } from '../../../../libs/common/src/audit/index.js';
import { drain, RETENTION_BATCH } from './drain.js';
import { RetentionRepository } from './retention.repository.js';
import { RunHistoryRetentionRepository } from './run-history-retention.repository.js';

const DAY = 86_400_000;
/** Published outbox rows are only kept for the relay and debugging. */
const OUTBOX_KEEP_DAYS = 2;

export interface RetentionReport {
  runs: number;
  failedRuns: number;
  outbox: number;
  /** Daily job_attempts partitions dropped whole. */
  partitionsDropped: number;
  auditLog: number;
  notifications: number;
  deliveries: number;
  deadLetters: number;
  /** Jobs with their own policy (JobHandler `retention`), each audited by the per-job purger. */
  jobs: PurgeCounts[];
}

/**
 * The platform's retention, run daily as the scheduler's own job
 * `scheduler.retention`: per-job policies first (RetentionPurger), then the
 * platform defaults for everything else — run history (RETENTION_RUNS_DAYS;
 * failed and dead runs RETENTION_FAILED_RUNS_DAYS; unfinished runs are kept),
 * published outbox rows, the audit log (RETENTION_AUDIT_DAYS), notifications
 * and their delivery attempts (RETENTION_NOTIFICATIONS_DAYS), dead letters
 * (RETENTION_DEAD_LETTERS_DAYS). Each run writes one audit entry with the
 * cut-offs and the counts.
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly repository: RetentionRepository,
    private readonly history: RunHistoryRetentionRepository,
    private readonly perJob: RetentionPurger,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async purge(runId: string | null = null, signal?: AbortSignal): Promise<RetentionReport> {
    const now = this.clock.now();
    const before = (days: number) => new Date(now.getTime() - days * DAY);
    const r = this.config.retention;
    const cutoffs = {
      runsBefore: before(r.runsDays),
      failedRunsBefore: before(r.failedRunsDays),
      outboxBefore: before(OUTBOX_KEEP_DAYS),
      auditLogBefore: before(r.auditDays),
      notificationsBefore: before(r.notificationsDays),
      deadLettersBefore: before(r.deadLettersDays),
    };
    const jobs = await this.perJob.purge(now);
    signal?.throwIfAborted();
    const history = await this.history.purgeRunHistory(cutoffs, signal);
    const report: RetentionReport = {
      ...history,
      // Through audit_log_purge(), the one way past the table's append-only trigger; each batch audits itself.
      auditLog: await drain(() => this.audit.purge(cutoffs.auditLogBefore, RETENTION_BATCH), signal),
      notifications: await this.repository.notifications(cutoffs.notificationsBefore, signal),
      deliveries: await this.repository.deliveries(cutoffs.notificationsBefore, signal),
      deadLetters: await this.repository.deadLetters(cutoffs.deadLettersBefore, signal),
      jobs: jobs.filter((j) => j.runs + j.steps + j.deadLetters > 0),
    };
    const { jobs: _jobs, ...counts } = report;
    await this.audit.system({ action: 'retention.purge', targetType: 'platform', targetId: runId, before: cutoffs, after: counts });
    this.logger.info({ ...counts, perJob: report.jobs.length }, 'retention done');
    return report;
  }
}
