import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.cache/**'],
    globalSetup: ['test/setup/services.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // Two cores: more workers than that only slows the Java services the integration tests talk to.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
