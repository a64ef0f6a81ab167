import base from './jest.config.js';

/**
 * `npm run test:faults`: the fault suite's files run one at a time (--maxWorkers=1), each in a fresh jest worker
 * (a limit every worker exceeds: it is replaced after every file), so every scenario runs as it does alone.
 * Scenario 10 runs its worker app inside the test process (100,000 messages): it read its backlog in 14 s in a
 * young worker and in over 240 s, its limit, as the 15th file of one that had kept the others' heaps (replaced only
 * past 800 MB, which api.test.ts alone takes a worker from 216 to 730 MB towards; `--logHeapUsage`, 2026-12-06).
 */
export default { ...base, workerIdleMemoryLimit: '1MB' };
