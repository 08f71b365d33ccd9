import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.cache/**'],
    globalSetup: ['test/setup/services.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // Two cores shared with Kafka and Elasticsearch: test files run one at a time, so that the fault
    // and timing tests are not starved by their neighbours.
    fileParallelism: false,
    reporters: ['default'],
  },
});
