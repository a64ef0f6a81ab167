import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MetronomeMetrics, ROOT_LOGGER, errorText, type Logger } from '../../../../libs/common/src/index.js';
import { JobStatsRollRepository, ROLL_BATCHES_PER_STATEMENT } from './job-stats-roll.repository.js';

/**
 * How often finished attempts are rolled into job_stats_minute. Readers do not
 * wait for it (the job_stats view counts what is not rolled yet); it bounds
 * how many attempts that view aggregates on the fly.
 */
const ROLL_EVERY_MS = 2_000;
/** Statements per pass at most, so one pass never holds the scheduler's pool long; the next pass goes on. */
const MAX_STATEMENTS = 50;

/**
 * Rolls the run history into the per-minute rollup (JobStatsRollRepository)
 * every ROLL_EVERY_MS. The history writers only mark their batches, so
 * counting costs nothing on a job's path. Never throws: a failed pass is
 * retried by the next one, and the view keeps every count meanwhile.
 */
@Injectable()
export class JobStatsRoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly repository: JobStatsRollRepository,
    private readonly metrics: MetronomeMetrics,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.rollOnce(), ROLL_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: rolls until no marked batch is left (or MAX_STATEMENTS); returns what it rolled. */
  async rollOnce(): Promise<{ batches: number; attempts: number; rows: number }> {
    const total = { batches: 0, attempts: 0, rows: 0 };
    if (this.running) return total;
    const pass = (async () => {
      for (let i = 0; i < MAX_STATEMENTS; i++) {
        const done = await this.repository.roll();
        total.batches += done.batches;
        total.attempts += done.attempts;
        total.rows += done.rows;
        if (done.batches < ROLL_BATCHES_PER_STATEMENT) break;
      }
      const pending = await this.repository.pending();
      this.metrics.statsRollupPending.set(pending.batches);
      this.metrics.statsRollupLag.set(pending.oldestSeconds);
    })();
    this.running = pass;
    try {
      await pass;
      if (total.batches) this.logger.debug(total, 'run history rolled into job stats');
    } catch (e) {
      this.logger.warn({ error: errorText(e), rolled: total }, 'job stats roll-up pass failed; the next pass retries (counts stay readable meanwhile)');
    } finally {
      this.running = undefined;
    }
    return total;
  }
}
