import { jest } from '@jest/globals';
import type { KvBuckets } from '../../messaging/kv-buckets.js';
import { AttemptLedger, attemptOf, EMPTY_LEDGER } from './attempt-ledger.js';

describe('attemptOf', () => {
  it('is the delivery count on a clean first delivery', () => {
    expect(attemptOf(1, EMPTY_LEDGER)).toEqual({ attempt: 1, lost: [] });
  });

  it('does not count deferrals as attempts', () => {
    // delivered 4 times: deferred (paused) three times, each noted; this is attempt 1
    expect(attemptOf(4, { deferrals: 3, settled: 3 })).toEqual({ attempt: 1, lost: [] });
  });

  it('counts a failed attempt settled by nak', () => {
    expect(attemptOf(2, { deferrals: 0, settled: 1 })).toEqual({ attempt: 2, lost: [] });
  });

  it('records deliveries that never came back as lost attempts', () => {
    // no ledger at all: the first delivery's worker died
    expect(attemptOf(2, EMPTY_LEDGER)).toEqual({ attempt: 2, lost: [1] });
    // deferred once (delivery 1), then deliveries 2 and 3 lost, now delivery 4
    expect(attemptOf(4, { deferrals: 1, settled: 1 })).toEqual({ attempt: 3, lost: [1, 2] });
  });

  it('adds the attempts a re-published run already used', () => {
    expect(attemptOf(1, EMPTY_LEDGER, 3)).toEqual({ attempt: 4, lost: [] });
    expect(attemptOf(2, EMPTY_LEDGER, 3)).toEqual({ attempt: 5, lost: [4] });
  });
});

describe('AttemptLedger.note', () => {
  /** A runs bucket in memory: every create/update is a stored block. */
  function ledger() {
    const blocks = new Map<string, { value: string; revision: number }>();
    const kv = {
      get: async (key: string) => {
        const b = blocks.get(key);
        return b ? { operation: 'PUT', revision: b.revision, value: new TextEncoder().encode(b.value), json: () => JSON.parse(b.value) } : null;
      },
      create: async (key: string, value: string) => void blocks.set(key, { value, revision: 1 }),
      update: async (key: string, value: string, revision: number) => void blocks.set(key, { value, revision: revision + 1 }),
    };
    const buckets = { open: async () => kv } as unknown as KvBuckets;
    return { ledger: new AttemptLedger(buckets), blocks };
  }

  beforeEach(() => jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('gathers deferral notes for a window before writing their block', async () => {
    const { ledger: l, blocks } = ledger();
    let stored = false;
    void l.note('JOBS', 7, { deferrals: 1, settled: 1 }).then(() => (stored = true));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(stored).toBe(false);
    await jest.advanceTimersByTimeAsync(10);
    expect(stored).toBe(true);
    expect(blocks.get('ledger.JOBS.0')?.value).toBe(JSON.stringify({ 7: '1:1' }));
  });

  it('writes a retry\'s note without waiting for the window', async () => {
    const { ledger: l, blocks } = ledger();
    await l.note('JOBS', 9, { deferrals: 0, settled: 1 }, true);
    expect(blocks.get('ledger.JOBS.0')?.value).toBe(JSON.stringify({ 9: '0:1' }));
  });
});
