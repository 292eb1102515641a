// A batch item's answer paid in an execution that crashed before the item's row was journaled,
// found in the cache when the item runs again, is the item's bill — counted as paid, not as a
// saving — as a step's is (supervisor.test.ts); and never twice when the item's journaled row
// carries that bill already.
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { priceCall } from '../../src/pricing/index.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { answer, StubProvider } from '../resilience/stub-provider.js';
import { flakyJournal } from './flaky-journal.js';
import { newEngine, pipelineFile, step, tempDir } from './harness.js';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

type Behaviour = (n: number, request: ModelRequest) => Promise<ModelResponse>;

/** An engine whose `openai` answers as `behaviour` says, on a journal `journal` wraps. */
function setup(behaviour: Behaviour, journal: (store: Store) => Store = (store) => store) {
  const store = new SqliteStore(`${tempDir()}/j.db`);
  stores.push(store);
  const provider = new StubProvider((n, _signal, request) => behaviour(n, request), 'openai');
  const engine: Engine = newEngine({
    store: journal(store),
    env: { OPENAI_API_KEY: 'sk-test-000000000000' },
    restartIntensity: { backoffMs: 1 },
    providerFactories: { openai: () => provider } as never,
  });
  return { engine, provider };
}

/** Each answer billed $0.01. */
const paid: Behaviour = async (n) => ({ ...answer(`answer ${n}`), costUsd: 0.01 });

const batch = (items: string, template = '') => `name: batch-paid-hits
steps:
  - name: each
    type: batch
    items: ${items}
    max_parallel: 1
    step_template: { type: openai, model: gpt-4o, prompt: "{{ item }}"${template} }
`;

async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const onWarning = () => {};
  process.on('warning', onWarning);
  try {
    return await body();
  } finally {
    process.off('warning', onWarning);
  }
}

describe('paid hits of batch items', () => {
  it("counts as paid an item's answer paid before a crash that lost its row, and saved only another item's", async () => {
    // The first group of item rows is not written: the run crashes after the items' calls were paid
    // and cached, and restarts. Item 1 asks what item 0 did: a saving in any execution.
    const { engine, provider } = setup(paid, (store) => flakyJournal(store, 'commitItems', 1));
    const { load } = pipelineFile(batch('["x", "x", "y"]'));
    const result = await quietly(async () => (await engine.start(load())).result);
    expect(result.status).toBe('succeeded');
    expect(provider.calls).toBe(2); // x and y, once each
    expect(result.totals).toMatchObject({ cost_usd: 0.02, calls: 3, cache_hits: 1, cost_saved_usd: 0.01 });
    expect(step(result, 'each')).toMatchObject({ cost_usd: 0.02 });
  });

  it("never counts twice an answer whose bill the item's failed row carries", async () => {
    // The answer (a tool call) is paid and cached, but the next turn is refused: the item fails, its
    // row keeps the $0.01. The resume runs it again: the same answer, from the cache, is a saving
    // this time. (An answer that fails the step's schema would not do: the cache never keeps one.)
    const toolThenRefused: Behaviour = async (n, request) => {
      if (request.messages.length > 1) throw new ProviderError('openai', 'bad_request', 'refused');
      return {
        ...(await paid(n, request)),
        toolCalls: [{ id: 'read-1', name: 'read_file', arguments: { path: 'pipeline.yaml' } }],
        finishReason: 'tool_calls',
      };
    };
    const { engine, provider } = setup(toolThenRefused);
    const { load } = pipelineFile(batch('["x"]', ', tools: [read_file], retry: { max_attempts: 1 }'));
    const first = await (await engine.start(load())).result;
    expect(first.status).toBe('failed');
    expect(first.totals).toMatchObject({ cost_usd: 0.01, calls: 2, cache_hits: 0 });
    const again = await (await engine.resume(first.run_id)).result;
    expect(again.status).toBe('failed');
    expect(provider.calls).toBe(3); // the tool turn once, the refused turn each time
    expect(again.totals).toMatchObject({ cost_usd: 0.01, calls: 4, cache_hits: 1, cost_saved_usd: 0.01 });
  });

  it("counts as paid an answer an item run again paid before a crash, beside its earlier row's bill", async () => {
    // Execution 1: the item's only attempt is billed and unusable — its row keeps that bill. A
    // resume runs it again: its answer is paid and cached, and the crash loses the new row (the
    // journal still has the first). The restart finds the answer: paid, the row being as before.
    const billed = { inputTokens: 10, outputTokens: 5 };
    const behaviour: Behaviour = async (n) => {
      if (n === 1) throw new ProviderError('openai', 'invalid_response', 'not JSON', { usage: billed });
      return paid(n, undefined as never);
    };
    const { engine, provider } = setup(behaviour, (store) => flakyJournal(store, 'commitItems', 1, 1));
    const { load } = pipelineFile(batch('["x"]', ', retry: { max_attempts: 1 }'));
    const first = await (await engine.start(load())).result;
    expect(first.status).toBe('failed');
    const firstBill = priceCall('openai', 'gpt-4o', billed) as number;
    expect(first.totals.cost_usd).toBeCloseTo(firstBill, 10);

    const resumed = await quietly(async () => (await engine.resume(first.run_id)).result);
    expect(resumed.status).toBe('succeeded');
    expect(provider.calls).toBe(2);
    expect(resumed.totals).toMatchObject({ calls: 2, cache_hits: 0, cost_saved_usd: 0 });
    expect(resumed.totals.cost_usd).toBeCloseTo(firstBill + 0.01, 10);
  });
});
