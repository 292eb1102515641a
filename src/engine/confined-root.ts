// The directory a run's files must come from, when its pipeline was submitted to `serve --root`:
// pipelines it runs as steps, tool modules, a claude_code step's executable and working directory.

import type { RunContext } from './run-context.js';

/** The run metadata key under which `serve` records its --root (see confinedRoot). */
export const CONFINED_ROOT_KEY = 'root';

/**
 * The run's root, if any: its pipeline's load was confined, or — for a resumed run, whose pipeline
 * the engine reloads without options — the server recorded it in the run's metadata.
 */
export function confinedRoot(run: RunContext): string | undefined {
  if (run.loaded.root !== undefined) return run.loaded.root;
  const recorded = run.metadata[CONFINED_ROOT_KEY];
  return typeof recorded === 'string' ? recorded : undefined;
}
