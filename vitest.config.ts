import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // vitest's default is one worker per core minus one: a single worker on a 2-core runner. Most
    // test time is spent waiting on loopback servers, child processes and deadlines, so one
    // worker per core (at least two) keeps both cores busy.
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.{ts,tsx}'],
          // Unit test files clean up after themselves (servers closed, temp dirs removed, real
          // timers and umask restored), so they share a worker's module cache: a fresh process
          // and a fresh import of sharp, ink and the CLI per file cost more CPU than the tests.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // In-process CLI runs, child processes of bin/smile.js, kill -9, TLS, the SDK: one
          // process per file, as ever.
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: ['test/unit/**', 'test/bench/**', 'node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
