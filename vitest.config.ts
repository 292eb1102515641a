import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Files that need a fresh module graph of their own: they replace a module (`vi.mock`), or need a
 * library's first timer armed on their fake clock (undici keeps one timer for all its deadlines).
 */
const OWN_MODULES = [
  'test/config/loader-read-error.test.ts',
  'test/config/pipeline-includes.test.ts',
  'test/resilience/connection-pool-deadlines.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two test files at once on this project's 2-core machines (Vitest's default there is one):
    // the suite's time halves, and its timing-sensitive tests (cluster workers, rate windows) are
    // written for a loaded machine. More cores, up to four files at once. (Three on two cores saved
    // 30 s of 5m47s, and the rate-window tests failed under that load: not kept.)
    maxWorkers: Math.max(1, Math.min(4, availableParallelism())),
    setupFiles: ['test/setup/file-hygiene.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: OWN_MODULES,
          // A worker imports the project once for all the files it runs, instead of once per file:
          // importing was a third of the suite's CPU (145 s of it), and the suite ran in 2/3 of the
          // time. What a file changes in the process is undone after it (test/setup/file-hygiene.ts).
          isolate: false,
        },
      },
      { extends: true, test: { name: 'own-modules', include: OWN_MODULES } },
    ],
  },
});
