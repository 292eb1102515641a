// A run killed in the middle of a batch, as its journal shows it: the run's row still `running`
// with no totals, no row for the batch step, and the items it finished. Shared by the tests that
// check a killed run's spend is read from its journal (engine, CLI, HTTP).
import { emptyTotals, type Store } from '../../src/journal/store.js';

export async function journalKilledBatch(
  store: Store,
  runId: string,
  items: number,
  each = { inputTokens: 10, outputTokens: 5, costUsd: 0.25 },
): Promise<void> {
  await store.createRun({
    id: runId,
    pipelineName: 'fan',
    pipelineHash: 'h',
    pipeline: {},
    inputs: {},
    status: 'running',
    startedAt: Date.now(),
    totals: emptyTotals(),
    metadata: {},
  });
  await store.commitItems(
    Array.from({ length: items }, (_, index) => ({
      runId,
      stepKey: 'each',
      index,
      status: 'succeeded' as const,
      output: `o${index}`,
      usage: { inputTokens: each.inputTokens, outputTokens: each.outputTokens },
      costUsd: each.costUsd,
      attempts: 1,
      durationMs: 1,
    })),
  );
}
