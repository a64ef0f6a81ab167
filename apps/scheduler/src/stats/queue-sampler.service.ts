import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, Clock, ROOT_LOGGER, errorText, type AppConfig, type Logger } from '../../../../libs/common/src/index.js';
import { QueueStatsReader } from './queue-stats.reader.js';
import { QueueStatsRepository } from './queue-stats.repository.js';

/** Samples are kept this long: the 7-day chart and a day to spare. */
export const QUEUE_STATS_RETENTION_MS = 8 * 24 * 3_600_000;

/**
 * Records every JOBS consumer's backlog and lag once a minute
 * (QUEUE_STATS_SAMPLE_MS) into queue_stats_minute, and drops samples older
 * than 8 days, so the dashboard can chart queue depth and lag over time.
 */
@Injectable()
export class QueueSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;
  private lastPurge = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly reader: QueueStatsReader,
    private readonly repository: QueueStatsRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    void this.sampleOnce();
    this.timer = setInterval(() => void this.sampleOnce(), this.config.queueStatsSampleMs);
    this.timer.unref();
  }

  /** One sampling and, at most hourly, the retention sweep. Never throws: a NATS or database hiccup skips a sample. */
  async sampleOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const now = this.clock.now();
      await this.repository.record(now, await this.reader.sample(now));
      if (now.getTime() - this.lastPurge >= 3_600_000) {
        this.lastPurge = now.getTime();
        await this.repository.deleteBefore(new Date(now.getTime() - QUEUE_STATS_RETENTION_MS));
      }
    } catch (e) {
      this.logger.warn({ error: errorText(e) }, 'queue stats sample skipped');
    } finally {
      this.running = false;
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
