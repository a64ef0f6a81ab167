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
};
