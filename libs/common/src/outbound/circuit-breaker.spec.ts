import { PermanentError } from '../messaging/errors.js';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, snoozes callers, probes half-open and closes on success', async () => {
    let now = 0;
    const b = new CircuitBreaker('smtp', { failureThreshold: 2, openMs: 1_000, probeWaitMs: 100 }, undefined, () => now);
    const down = () => Promise.reject(new Error('ECONNREFUSED'));
    await expect(b.call(down)).rejects.toThrow('ECONNREFUSED');
    await expect(b.call(down)).rejects.toBeInstanceOf(CircuitOpenError); // the failure that opens it snoozes too
    expect(b.state).toBe('open');
    await expect(b.call(() => 'never called')).rejects.toBeInstanceOf(CircuitOpenError);
    now = 1_001;
    await expect(b.call(down)).rejects.toBeInstanceOf(CircuitOpenError); // failed probe: open again
    expect(b.state).toBe('open');
    now = 2_002;
    expect(await b.call(() => 'sent')).toBe('sent');
    expect(b.state).toBe('closed');
    await expect(b.call(() => Promise.reject(new PermanentError('bad address')))).rejects.toBeInstanceOf(PermanentError);
    await expect(b.call(() => Promise.reject(new PermanentError('bad address')))).rejects.toBeInstanceOf(PermanentError);
    expect(b.state).toBe('closed');
  });
});
