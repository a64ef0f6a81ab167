import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Cron, Interval, Timeout } from '@nestjs/schedule';
import { APP_CONFIG, MetronomeJob, type AppConfig, type ScheduledJobContext } from '../../libs/common/src/index.js';
import { ReportRunsRepository } from './report-runs.repository.js';

/**
 * Ordinary @nestjs/schedule methods. Under ScheduleModule every replica runs
 * each of them; under MetronomeScheduleModule each occurrence runs once across
 * all replicas, as a job with retries, history and metrics, and the method gets
 * a ScheduledJobContext as its first argument (undefined under ScheduleModule).
 */
@Injectable()
export class ReportsService implements OnModuleInit {
  private readonly worker: string;

  constructor(
    private readonly runs: ReportRunsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.worker = config.instanceId;
  }

  onModuleInit(): Promise<void> {
    return this.runs.ensureTable();
  }

  /** Every two seconds (six fields: seconds first). */
  @Cron('*/2 * * * * *', { name: 'refresh-dashboard' })
  async refreshDashboard(ctx?: ScheduledJobContext): Promise<void> {
    await this.record('cron', 'run', ctx);
  }

  /** Every 1.5 s, anchored where the schedule was first declared. */
  @Interval('sync-usage', 1500)
  async syncUsage(ctx?: ScheduledJobContext): Promise<void> {
    await this.record('interval', 'run', ctx);
  }

  /** Once, a second after the first replica declared it. */
  @Timeout('warm-cache', 1000)
  async warmCache(ctx?: ScheduledJobContext): Promise<void> {
    await this.record('timeout', 'run', ctx);
  }

  /** A slow export: if the replica running it dies, another one runs the same occurrence again (attempt 2). */
  @Interval('export-usage', 4000)
  @MetronomeJob({ maxAttempts: 3, timeoutMs: 30_000, priority: 'low' })
  async exportUsage(ctx?: ScheduledJobContext): Promise<{ status: 'success'; recordsProcessed: number }> {
    await this.record('export', 'start', ctx);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, 2_500);
      ctx?.signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(ctx.signal.reason);
      });
    });
    await this.record('export', 'end', ctx);
    ctx?.logger.info('usage exported');
    return { status: 'success', recordsProcessed: 1 };
  }

  private record(kind: string, phase: 'run' | 'start' | 'end', ctx?: ScheduledJobContext): Promise<void> {
    return this.runs.record({
      kind,
      phase,
      runId: ctx?.jobId ?? null,
      occurrence: ctx?.scheduledFor ?? new Date(),
      attempt: ctx?.attempt ?? 1,
      worker: this.worker,
    });
  }
}
