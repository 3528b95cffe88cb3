import { defineConfig } from 'vitest/config';

/**
 * One runner, two layouts: unit tests beside the code (`src/**\/*.test.ts`), integration tests
 * against real servers under `test/integration/`. The integration project starts the local stack once.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts', 'services/*/test/integration/**/*.test.ts'],
          globalSetup: ['packages/testkit/src/vitest-global-setup.ts'],
          pool: 'forks',
          // Two cores: two test files at a time, each with real servers behind it.
          maxWorkers: 2,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
