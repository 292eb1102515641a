// Runs pipelines in-process on a real SQLite journal in a temp dir.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine, type EngineOptions, type StartOptions } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';

export function tempDir(prefix = 'elexirion-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function newEngine(options: Partial<EngineOptions> = {}): Engine {
  const store = options.store ?? new SqliteStore(join(tempDir(), 'journal.db'));
  return new Engine({ env: {}, ...options, store });
}

/** Writes `yaml` to a file (so resume can reload it) and loads it. */
export function pipelineFile(
  yaml: string,
  dir = tempDir(),
): { file: string; load: () => ReturnType<typeof loadPipelineFromString> } {
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, yaml);
  return { file, load: () => loadPipelineFromString(yaml, file) };
}

export async function runYaml(engine: Engine, yaml: string, options: StartOptions = {}): Promise<RunResult> {
  const { load } = pipelineFile(yaml);
  const handle = await engine.start(load(), options);
  return handle.result;
}

export function step(result: RunResult, name: string) {
  const found = result.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name} in ${result.steps.map((s) => s.name).join(', ')}`);
  return found;
}
