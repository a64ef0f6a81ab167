import { AttemptAbort } from './attempt-abort.js';

describe('AttemptAbort', () => {
  it('settles with the work when nothing aborts it', async () => {
    const abort = new AttemptAbort();
    await expect(abort.race(Promise.resolve(42))).resolves.toBe(42);
    await expect(new AttemptAbort().race(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(abort.aborted).toBe(false);
  });

  it('rejects a running attempt with the reason at once, though its work never settles', async () => {
    const abort = new AttemptAbort();
    const attempt = abort.race(new Promise<never>(() => undefined));
    const reason = new Error('timed out');
    abort.abort(reason);
    await expect(attempt).rejects.toBe(reason);
  });

  it('keeps the first reason and rejects an attempt started after the abort', async () => {
    const abort = new AttemptAbort();
    const first = new Error('cancelled');
    abort.abort(first);
    abort.abort(new Error('timed out'));
    expect(abort.reason).toBe(first);
    await expect(abort.race(Promise.resolve('late'))).rejects.toBe(first);
  });

  it('absorbs the failure of work that outlives its abort', async () => {
    const unhandled: unknown[] = [];
    const listener = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', listener);
    try {
      for (const abortFirst of [true, false]) {
        const abort = new AttemptAbort();
        let fail!: (e: Error) => void;
        const work = new Promise<never>((_, reject) => (fail = reject));
        if (abortFirst) abort.abort('cancelled');
        const attempt = abort.race(work);
        if (!abortFirst) abort.abort('cancelled');
        await expect(attempt).rejects.toBe('cancelled');
        fail(new Error('handler failed late'));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('gives the handler a signal that reflects an abort before and after it was read', () => {
    const before = new AttemptAbort();
    before.abort('early');
    expect(before.signal.aborted).toBe(true);
    expect(before.signal.reason).toBe('early');

    const after = new AttemptAbort();
    const signal = after.signal;
    let heard: unknown;
    signal.addEventListener('abort', () => (heard = signal.reason));
    expect(signal.aborted).toBe(false);
    after.abort('later');
    expect(heard).toBe('later');
    expect(after.signal).toBe(signal);
  });
});
