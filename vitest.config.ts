import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'scripts/**/*.test.ts',
      'infrastructure/test/**/*.test.ts',
      'test/security/**/*.test.ts',
      'web/e2e/**/*.test.ts',
    ],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Integration tests start real processes and databases; the machine has two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
