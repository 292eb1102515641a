// Test files share their worker's modules (vitest.config.ts: `isolate: false`), so what a file
// changes in the process must not outlive it: environment variables and globals it stubbed, a fake
// clock it left on, spies it left in place. Runs after every file.
import { afterAll, vi } from 'vitest';

afterAll(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});
