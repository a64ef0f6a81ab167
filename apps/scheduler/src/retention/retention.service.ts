import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, Clock, JOB_NAMES, ROOT_LOGGER, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { ScheduleRegistry } from '../schedules/schedule-registry.js';
import { RetentionRepository } from './retention.repository.js';

const DAY = 86_400_000;
const BATCH = 5_000;
/** Published outbox rows are only kept for the relay and debugging. */
const OUTBOX_KEEP_DAYS = 2;

export interface RetentionReport {
  runsDeleted: number;
  failedRunsDeleted: number;
  outboxDeleted: number;
}

/**
 * Deletes run history past RETENTION_RUNS_DAYS (failed and dead runs past
 * RETENTION_FAILED_RUNS_DAYS; unfinished runs are kept) and published outbox
 * rows. Runs daily as the scheduler's own job `scheduler.retention`.
 */
@Injectable()
export class RetentionService implements OnModuleInit {
  constructor(
    private readonly repository: RetentionRepository,
    private readonly registry: ScheduleRegistry,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.registerCron('metronome.retention', '17 3 * * *', 'UTC', JOB_NAMES.schedulerRetention, {}, {
      priority: 'low',
      maxAttempts: 3,
      description: 'Deletes old run history (RETENTION_RUNS_DAYS, RETENTION_FAILED_RUNS_DAYS) and published outbox rows',
    });
  }

  async purge(): Promise<RetentionReport> {
    const now = this.clock.now().getTime();
    const drain = async (step: () => Promise<number>) => {
      let total = 0;
      for (;;) {
        const n = await step();
        total += n;
        if (n < BATCH) return total;
      }
    };
    const runsBefore = new Date(now - this.config.retention.runsDays * DAY);
    const failedBefore = new Date(now - this.config.retention.failedRunsDays * DAY);
    const report: RetentionReport = {
      runsDeleted: await drain(() => this.repository.deleteRuns(runsBefore, false, BATCH)),
      failedRunsDeleted: await drain(() => this.repository.deleteRuns(failedBefore, true, BATCH)),
      outboxDeleted: await drain(() => this.repository.deletePublishedOutbox(new Date(now - OUTBOX_KEEP_DAYS * DAY), BATCH)),
    };
    this.logger.info({ ...report, runsBefore, failedBefore }, 'run history retention done');
    return report;
  }
}
