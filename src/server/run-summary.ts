// What GET /runs lists per run: the public run shape without its steps.
import { buildRunResult, journalOf, type RunResult } from '../engine/run-result.js';
import type { RunRecord, Store } from '../journal/store.js';

export type RunSummary = Omit<RunResult, 'steps' | 'outputs'>;

/**
 * A finished run's totals are in its row; a running or killed one's are added up from its journal
 * (its steps and batch items so far) — a killed run must not show zero spent.
 */
export async function runSummary(store: Store, record: RunRecord): Promise<RunSummary> {
  const journal = record.finishedAt === undefined ? await journalOf(store, record) : { steps: [], items: [] };
  const { steps: _steps, outputs: _outputs, ...summary } = buildRunResult(record, journal.steps, journal.items);
  return summary;
}
