import { loadConfig } from '../config/load-config.js';
import type { Logger } from '../logging/logger.js';
import type { RateLimitRepository } from './rate-limit.repository.js';
import { RateLimiter } from './rate-limiter.js';

class FakeStore {
  calls = 0;
  failing = false;
  tokens = new Map<string, number>();
  constructor(private readonly burst: number) {}
  async take(key: string): Promise<boolean> {
    this.calls++;
    if (this.failing) throw new Error('connection refused');
    const t = this.tokens.get(key) ?? this.burst;
    if (t < 1) return false;
    this.tokens.set(key, t - 1);
    return true;
  }
  async sweep(): Promise<void> {}
}

const logger = { warn: () => undefined, info: () => undefined } as unknown as Logger;

function limiter(burst: number) {
  const store = new FakeStore(burst);
  const l = new RateLimiter(loadConfig({ API_RATE_LIMIT_BURST: String(burst), API_RATE_LIMIT_PER_SECOND: '1' }), logger, store as unknown as RateLimitRepository);
  return { l, store };
}

describe('RateLimiter', () => {
  it('asks the shared store once per request until a key is refused, then refuses it locally until Retry-After', async () => {
    const { l, store } = limiter(2);
    expect([await l.take('k'), await l.take('k'), await l.take('k')]).toEqual([0, 0, 1]);
    expect(store.calls).toBe(3);
    expect(await l.take('k')).toBe(1);
    expect(l.refusedLocally('k')).toBe(1);
    expect(store.calls).toBe(3);
    expect(l.refusedLocally('other')).toBe(0);
    l.onModuleDestroy();
  });

  it('falls back to its own buckets while the store fails, without asking it on every request', async () => {
    const { l, store } = limiter(2);
    store.failing = true;
    expect([await l.take('k'), await l.take('k'), await l.take('k')]).toEqual([0, 0, 1]);
    expect(store.calls).toBe(1);
    l.onModuleDestroy();
  });
});
