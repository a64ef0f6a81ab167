import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Logger } from '../logging/logger.js';
import { errorText } from '../messaging/errors.js';
import { RateLimitRepository } from './rate-limit.repository.js';

interface Bucket {
  tokens: number;
  at: number;
}

const SWEEP_MS = 60_000;
/** After the store fails, how long requests use the local buckets before Postgres is asked again. */
const STORE_RETRY_MS = 5_000;
const MAX_KEY = 200;

/**
 * Rate limit of every HTTP API: a token bucket per key (service + principal, or service + client IP before
 * authentication succeeds) held in Postgres, so every replica draws from the same bucket; one statement per
 * request. A key found over the limit is refused locally, without asking Postgres, until its Retry-After
 * passes: a flood costs the database one statement per key per second, not one per request. If Postgres
 * cannot answer, each process falls back to its own buckets (limits then apply per replica) rather than
 * failing every request.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly rate: number;
  private readonly burst: number;
  private readonly retryAfter: number;
  private readonly refused = new Map<string, number>();
  private readonly fallback = new Map<string, Bucket>();
  private readonly sweeper: NodeJS.Timeout;
  private storeDownUntil = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly repository: RateLimitRepository,
  ) {
    this.rate = config.api.rateLimitPerSecond;
    this.burst = config.api.rateLimitBurst;
    // An empty bucket holds a whole token again after 1/rate s.
    this.retryAfter = Math.max(1, Math.ceil(1 / this.rate));
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Seconds the caller must wait when `key` is known here to be over the limit, else 0 (no database call). */
  refusedLocally(key: string, now = Date.now()): number {
    const until = this.refused.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.refused.delete(key);
      return 0;
    }
    return Math.ceil((until - now) / 1000);
  }

  /** Takes a token for `key`; 0 when allowed, else the seconds to wait (Retry-After). */
  async take(key: string): Promise<number> {
    const local = this.refusedLocally(key);
    if (local > 0) return local;
    const stored = key.length > MAX_KEY ? `sha256:${createHash('sha256').update(key).digest('base64url')}` : key;
    return (await this.takeShared(stored)) ? 0 : this.deny(key);
  }

  /** One statement on the shared buckets; while the store fails, this process's own buckets (no request waits on it). */
  private async takeShared(key: string): Promise<boolean> {
    if (Date.now() < this.storeDownUntil) return this.takeLocal(key);
    try {
      const allowed = await this.repository.take(key, this.rate, this.burst);
      if (this.storeDownUntil !== 0) this.logger.info('rate limit store answers again: limits are shared across replicas');
      this.storeDownUntil = 0;
      return allowed;
    } catch (e) {
      if (this.storeDownUntil === 0) this.logger.warn({ error: errorText(e) }, 'rate limit store unavailable: limiting per process until Postgres answers');
      this.storeDownUntil = Date.now() + STORE_RETRY_MS;
      return this.takeLocal(key);
    }
  }

  private deny(key: string): number {
    this.refused.set(key, Date.now() + this.retryAfter * 1000);
    return this.retryAfter;
  }

  private takeLocal(key: string, now = Date.now()): boolean {
    const b = this.fallback.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.fallback.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const [k, until] of this.refused) if (until <= now) this.refused.delete(k);
    for (const [k, b] of this.fallback) if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.fallback.delete(k);
    await this.repository.sweep(this.rate, this.burst).catch(() => undefined);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}
