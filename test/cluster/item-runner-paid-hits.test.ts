// A chunk delivery that paid for its items' calls and died before journaling them leaves the
// answers in the cache, marked as paid by its execution. The next delivery finds them there: that
// is the items' bill, not a saving — as for a batch on one machine (test/engine/batch-paid-hits.test.ts).
// The chunk runner alone, on a SQLite journal: no Redis needed.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runItemChunk } from '../../src/cluster/item-runner.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { flakyJournal } from '../engine/flaky-journal.js';
import { tempDir } from '../engine/harness.js';
import { OpenAIFake } from '../fakes/index.js';

// A priced model behind the OpenAI fake: every answer is billed.
const yaml = `name: fan
steps:
  - name: fan
    type: batch
    items: [a, b]
    step_template: { type: openai, model: gpt-4o, prompt: "item {{ item }}" }
`;

const openai = new OpenAIFake();
let env: Record<string, string>;
beforeAll(async () => {
  env = { OPENAI_BASE_URL: `${await openai.start()}/v1`, OPENAI_API_KEY: 'fake-openai-key' };
});
afterAll(async () => {
  await openai.stop();
  await closePools();
});

let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('a chunk delivered again after its first delivery paid and died unjournaled', () => {
  it('counts the answers it finds in the cache as the items’ bill, not as savings', async () => {
    const journal = new SqliteStore(join(tempDir(), 'journal.db'));
    store = journal;
    const run = await new Engine({ store: journal, env }).create(loadPipelineFromString(yaml, 'fan.yaml'));
    const deps = (over: Store = journal) => ({
      store: over,
      gates: new GateRegistry(new EventBus()),
      env,
      budgets: () => {
        throw new Error('the pipeline has no budget');
      },
    });
    const chunk = { runId: run.id, stepKey: 'fan', generation: 0, from: 0, to: 2, enqueuedAt: Date.now() };
    // The first delivery: both calls paid and cached, the items' rows never written.
    const first = runItemChunk(
      deps(flakyJournal(journal, 'commitItems', 1)),
      chunk,
      new AbortController().signal,
      () => false,
    );
    await expect(first).rejects.toThrow(/simulated/);
    expect(await journal.getItems(run.id, 'fan')).toEqual([]);

    await runItemChunk(deps(), chunk, new AbortController().signal, () => false);
    const items = await journal.getItems(run.id, 'fan');
    expect(items.map((item) => item.status)).toEqual(['succeeded', 'succeeded']);
    expect(openai.requests).toHaveLength(2); // each answer paid once, by the first delivery
    for (const item of items) {
      expect(item.costUsd).toBeGreaterThan(0);
      expect(item.calls).toBe(1);
    }
  });
});
