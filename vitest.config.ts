import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const shared = { exclude: ['node_modules/**', '.cache/**', 'dist/**'] };

// V8's code cache for the dependencies that the workers, and the CLI children the tests spawn, load
// natively: less compiling on every run after the first. Inside node_modules, so a reinstall clears it.
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, 'node_modules', '.cache', 'node-compile');

export default defineConfig({
  test: {
    testTimeout: 60_000,
    reporters: ['default'],
    // Transformed TypeScript kept on disk between runs (keyed by content): a rerun skips most transforms.
    experimental: { fsModuleCache: true },
    projects: [
      {
        // Pure logic, embedded store, in-memory bus, the CLI without services: no Kafka, Elasticsearch or
        // browser, so files run in parallel and need nothing installed beyond `npm ci`.
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...shared.exclude, '**/*.int.test.ts'],
          // Most files wait on timers and child processes rather than the CPU: more workers than cores.
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Real Kafka, Elasticsearch, a browser, the CLI against services. One file at a time on two
        // shared cores, so that the fault and timing tests are not starved by their neighbours; after
        // the unit project, so the two never compete.
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: shared.exclude,
          globalSetup: ['test/setup/services.ts'],
          hookTimeout: 240_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
