import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // One test file more than the cores, up to four (three on this project's 2-core machines;
    // Vitest's default there is one): many files wait on timers, child processes and sockets, so a
    // third file at once took the suite from 5m47s to 5m17s here, and its timing-sensitive tests
    // (cluster workers, rate windows) are written for a loaded machine.
    maxWorkers: Math.max(1, Math.min(4, availableParallelism() + 1)),
  },
});
