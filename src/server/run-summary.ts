// What GET /runs lists per run: the public run shape without its steps.
import { buildRunResult, type RunResult } from '../engine/run-result.js';
import type { RunRecord } from '../journal/store.js';

export type RunSummary = Omit<RunResult, 'steps' | 'outputs'>;

export function runSummary(record: RunRecord): RunSummary {
  const { steps: _steps, outputs: _outputs, ...summary } = buildRunResult(record, []);
  return summary;
}
