import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Clock, ROOT_LOGGER, errorText, type Logger } from '../../../../libs/common/src/index.js';
import { COMPACTION_KEYS_PER_STATEMENT, JobStatsCompactionRepository } from './job-stats-compaction.repository.js';

const MINUTE = 60_000;
/** How often the rollup is compacted. */
const COMPACT_EVERY_MS = MINUTE;
/** Each pass looks this far back: the minutes that just closed, and rows a slow batch added to them. */
const RECENT_MS = 15 * MINUTE;
/** Once an hour a pass looks this far back, for attempts a history writer kept through a long database outage (rolled up late, to their own minute). */
const DEEP_MS = 2 * 24 * 60 * MINUTE;
/** Statements per pass at most, so one pass never holds the scheduler's pool long. */
const MAX_STATEMENTS = 20;

/**
 * Folds the rollup rows the roller appends (one per pass, minute, job, queue
 * and tenant) into one per key, once a minute, for the minutes
 * already closed; charts and job lists read the same totals either way, in
 * fewer rows. Never throws: a failed pass is retried by the next one.
 */
@Injectable()
export class JobStatsCompactor implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running = false;
  private lastDeep = 0;

  constructor(
    private readonly repository: JobStatsCompactionRepository,
    private readonly clock: Clock,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.compactOnce(), COMPACT_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass over the closed minutes; returns the rows removed and the merged rows written. */
  async compactOnce(): Promise<{ removed: number; merged: number }> {
    const total = { removed: 0, merged: 0 };
    if (this.running) return total;
    this.running = true;
    try {
      const now = this.clock.now().getTime();
      const deep = now - this.lastDeep >= 60 * MINUTE;
      const to = new Date(Math.floor(now / MINUTE) * MINUTE);
      const from = new Date(to.getTime() - (deep ? DEEP_MS : RECENT_MS));
      for (let i = 0; i < MAX_STATEMENTS; i++) {
        const done = await this.repository.compact(from, to);
        if (!done) break;
        total.removed += done.removed;
        total.merged += done.merged;
        if (done.merged < COMPACTION_KEYS_PER_STATEMENT) {
          if (deep) this.lastDeep = now;
          break;
        }
      }
      if (total.removed) this.logger.debug({ ...total, from, to }, 'job stats rollup compacted');
    } catch (e) {
      this.logger.warn({ error: errorText(e) }, 'job stats rollup compaction skipped');
    } finally {
      this.running = false;
    }
    return total;
  }
}
