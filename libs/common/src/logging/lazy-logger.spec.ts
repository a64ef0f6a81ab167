import { Writable } from 'node:stream';
import { pino } from 'pino';
import { lazyLogger } from './lazy-logger.js';

describe('lazyLogger', () => {
  it('builds the child only when it is first used, then logs through it with its bindings', () => {
    const lines: string[] = [];
    const root = pino({ base: null, timestamp: false }, new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
    let built = 0;
    const logger = lazyLogger(() => {
      built++;
      return root.child({ runId: 'r1' });
    });
    expect(built).toBe(0);
    logger.info({ step: 'a' }, 'hello');
    logger.child({ attempt: 2 }).warn('again');
    expect(built).toBe(1);
    expect(logger.isLevelEnabled('debug')).toBe(false);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: 30, runId: 'r1', step: 'a', msg: 'hello' },
      { level: 40, runId: 'r1', attempt: 2, msg: 'again' },
    ]);
  });
});
