import base from './jest.config.js';

/**
 * `npm run test:faults`: the fault suite's files run one at a time (--maxWorkers=1) in a jest worker that is
 * replaced between files once it has grown past this. All 15 in one in-band process, the 15th, scenario 10 (its
 * worker runs in the test process, 100,000 messages), read its backlog in over 240 s, its limit, against 14-17 s
 * in a fresh process (2026-12-06).
 */
export default { ...base, workerIdleMemoryLimit: '800MB' };
