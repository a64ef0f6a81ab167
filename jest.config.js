/** Jest runs in native ESM mode because NestJS 12 ships as ES modules (it uses import.meta). */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    // npm run test:faults / test:soak only (never part of npm test): faults injected into real processes, counted in test/results/faults.json.
    {
      ...shared,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/faults/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/faults/support/global-teardown.mjs',
    },
  ],
  // A project-level testTimeout is ignored by jest; it must sit at the root.
  testTimeout: 120000,
  // Where tests run in workers (the unit project; the fault suite, one worker at a time), a worker grown past this
  // is replaced between test files. The fault suite ran all 15 files in one process: its 15th, scenario 10 (the
  // worker runs in the test process, 100,000 messages), read its backlog in 14-17 s in a fresh process and in over
  // 240 s (its limit) at the end of the suite (2026-12-06).
  workerIdleMemoryLimit: '800MB',
};
