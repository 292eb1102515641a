// A chunk of a batch runs again the items the journal has as failed (a new flow after a resume, or
// the chunk delivered again): the row that replaces a failed item's keeps what the failed attempt
// paid for — tokens, cost, attempts and calls — as a batch on one machine does. The run's totals
// are read from the items, so a bill dropped here would be money forgotten.
// The chunk runner alone, on a SQLite journal: no Redis needed.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runItemChunk } from '../../src/cluster/item-runner.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { ItemRecord } from '../../src/journal/store.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { tempDir } from '../engine/harness.js';

const yaml = `name: fan
steps:
  - name: fan
    type: batch
    items: [0, 1]
    step_template: { type: mock, prompt: "item {{ index }}" }
`;

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** Runs items 0 and 1 of the `fan` batch of a new run on a chunk runner, after journaling `earlier`. */
async function runChunkAfter(earlier: Omit<ItemRecord, 'runId' | 'stepKey'>) {
  const journal = new SqliteStore(join(tempDir(), 'journal.db'));
  store = journal;
  const run = await new Engine({ store: journal, env: {} }).create(loadPipelineFromString(yaml, 'fan.yaml'));
  await journal.commitItems([{ runId: run.id, stepKey: 'fan', ...earlier }]);
  const deps = {
    store: journal,
    gates: new GateRegistry(new EventBus()),
    env: {},
    budgets: () => {
      throw new Error('the pipeline has no budget');
    },
  };
  const chunk = { runId: run.id, stepKey: 'fan', generation: 0, from: 0, to: 2, enqueuedAt: Date.now() };
  const stats = await runItemChunk(deps, chunk, new AbortController().signal, () => false);
  return { run, stats, journal };
}

describe('a chunk running an item that failed before', () => {
  it('keeps the failed attempt’s bill in the row that replaces it', async () => {
    const earlier = { usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.25, attempts: 2, calls: 2 };
    const { run, stats, journal } = await runChunkAfter({
      index: 0,
      status: 'failed',
      error: 'earlier',
      durationMs: 1,
      ...earlier,
    });
    expect(stats.calls).toBe(2); // this delivery's own: one call per item

    const [again, fresh] = await journal.getItems(run.id, 'fan');
    expect(again?.status).toBe('succeeded');
    expect(again?.calls).toBe(1 + earlier.calls);
    expect(again?.attempts).toBe(1 + earlier.attempts);
    expect(again?.costUsd).toBe(earlier.costUsd); // the mock is free
    expect(again?.usage.inputTokens).toBe((fresh?.usage.inputTokens ?? 0) + earlier.usage.inputTokens);
    expect(again?.usage.outputTokens).toBeGreaterThan(earlier.usage.outputTokens);
    expect(fresh).toMatchObject({ status: 'succeeded', calls: 1, attempts: 1 });
  });

  it('keeps the failed attempt’s calls of unknown price, which its known cost leaves out', async () => {
    // A priced call, then an unpriced fallback, both failed: $0.25 is the known part.
    const { run, journal } = await runChunkAfter({
      index: 0,
      status: 'failed',
      error: 'earlier',
      durationMs: 1,
      usage: { inputTokens: 10, outputTokens: 5 },
      costUsd: 0.25,
      attempts: 2,
      calls: 2,
      unpricedCalls: 1,
    });
    const [again] = await journal.getItems(run.id, 'fan');
    expect(again).toMatchObject({ status: 'succeeded', costUsd: 0.25, calls: 3, unpricedCalls: 1 });
    expect(await journal.itemTotals(run.id)).toEqual([expect.objectContaining({ stepKey: 'fan', unpricedCalls: 1 })]);
  });
});
