import { loadConfig } from '../config/load-config.js';
import { ProblemException } from './problem-json.filter.js';
import { SseSlots } from './sse-slots.js';

const status = (fn: () => unknown) => {
  try {
    fn();
    return 200;
  } catch (e) {
    return (e as ProblemException).getStatus();
  }
};

describe('SseSlots', () => {
  it('caps streams per user and per process, and gives a slot back once', () => {
    const slots = new SseSlots(loadConfig({ SSE_MAX_PER_USER: '2', SSE_MAX_PER_PROCESS: '3' }));
    const a1 = slots.acquire('acme/ann');
    slots.acquire('acme/ann');
    expect(status(() => slots.acquire('acme/ann'))).toBe(429);
    slots.acquire('acme/bob');
    expect(status(() => slots.acquire('globex/cid'))).toBe(429);
    a1();
    a1();
    expect(slots.openStreams).toBe(2);
    expect(status(() => slots.acquire('globex/cid'))).toBe(200);
    expect(status(() => slots.acquire('acme/ann'))).toBe(429);
  });
});
