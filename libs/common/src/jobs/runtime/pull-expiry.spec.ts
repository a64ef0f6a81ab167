import { describe, expect, it } from '@jest/globals';
import { MAX_PULL_EXPIRES_MS, MIN_PULL_EXPIRES_MS, pullExpiresMs } from './pull-expiry.js';

describe('pullExpiresMs', () => {
  it('keeps the usual 5 s pull for the default 30 s ack wait', () => {
    expect(pullExpiresMs(30_000)).toBe(MAX_PULL_EXPIRES_MS);
  });

  it('expires a pull before half the ack wait, so a dead worker\'s requests are gone when its messages come back', () => {
    for (const ackWait of [3_000, 6_000, 9_000, 14_999, 15_000]) {
      expect(pullExpiresMs(ackWait)).toBeLessThan(ackWait / 2);
    }
  });

  it('never goes under what nats.js accepts', () => {
    expect(pullExpiresMs(2_000)).toBe(MIN_PULL_EXPIRES_MS);
    expect(pullExpiresMs(1_000)).toBe(MIN_PULL_EXPIRES_MS);
  });
});
