import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two test files at once on this project's 2-core machines (Vitest's default there is one):
    // the suite's time halves, and its timing-sensitive tests (cluster workers, rate windows) are
    // written for a loaded machine. More cores, up to four files at once. (Three on two cores saved
    // 30 s of 5m47s, and the rate-window tests failed under that load: not kept.)
    maxWorkers: Math.max(1, Math.min(4, availableParallelism())),
  },
});
