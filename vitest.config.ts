import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites each start their own emulators on free ports, so
    // files can run side by side; two workers match the 2-core CI machine.
    maxWorkers: 2,
    coverage: {
      provider: 'v8',
      include: ['lib/**', 'lambdas/**'],
      // Lambda entries only read their environment; what they wire up is
      // covered through the factories they call.
      exclude: ['lambdas/*/handler.ts'],
      thresholds: { lines: 80 },
    },
  },
});
