// A paid hit — an answer a crashed execution paid for, found in the cache when the step runs again —
// is spent money: the budget of the execution that finds it counts it at once, before the next call
// is checked, and a later resume (whose budget reads the journal) counts it once, not twice.
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { answer, StubProvider } from '../resilience/stub-provider.js';
import { flakyJournal } from './flaky-journal.js';
import { newEngine, pipelineFile, tempDir } from './harness.js';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

// Each call is billed $0.01; b's worst case is a fraction of a cent: it fits the $0.005 limit
// unless a's $0.01 is counted.
const PIPELINE = `name: paid-hit-budget
budget: { max_cost_usd: 0.005 }
steps:
  - { name: a, type: openai, model: gpt-4o, prompt: one, max_tokens: 10 }
  - { name: b, type: openai, model: gpt-4o, prompt: two, max_tokens: 10 }
`;

function setup(): { engine: Engine; provider: StubProvider } {
  const store = new SqliteStore(`${tempDir()}/j.db`);
  stores.push(store);
  const provider = new StubProvider(async (n) => ({ ...answer(`answer ${n}`), costUsd: 0.01 }), 'openai');
  const engine = newEngine({
    // a's commit fails once: the run crashes after a's call was paid and cached, before a is journaled.
    store: flakyJournal(store, 'commitStep', 1),
    env: { OPENAI_API_KEY: 'sk-test-000000000000' },
    restartIntensity: { backoffMs: 1 },
    providerFactories: { openai: () => provider } as never,
  });
  return { engine, provider };
}

describe("a paid hit in the run's budget", () => {
  it('is counted by the execution that finds it before its next call, and once by a later resume', async () => {
    const { engine, provider } = setup();
    const { load } = pipelineFile(PIPELINE);
    const onWarning = () => {};
    process.on('warning', onWarning);
    try {
      const first = await (await engine.start(load())).result;
      // The restarted execution found a's answer in the cache (no second request) and counted its
      // $0.01: b's call could take the run past $0.005, and was not made.
      expect(provider.calls).toBe(1);
      expect(first.status).toBe('failed');
      expect(first.failed_step).toBe('b');
      expect(first.error).toMatch(/spent \$0\.01 of max_cost_usd \$0\.005/);
      expect(first.totals).toMatchObject({ cost_usd: 0.01, calls: 1, cache_hits: 0, cost_saved_usd: 0 });

      // A resume reads the $0.01 from a's journaled record: once, not once more for the hit.
      const again = await (await engine.resume(first.run_id)).result;
      expect(again.error).toMatch(/spent \$0\.01 of max_cost_usd \$0\.005/);
      expect(provider.calls).toBe(1);

      // Room for b beside a's $0.01 counted once (twice, $0.02, would leave none).
      const done = await (await engine.resume(first.run_id, { maxCostUsd: 0.015 })).result;
      expect(done.status).toBe('succeeded');
      expect(provider.calls).toBe(2);
      expect(done.totals).toMatchObject({ cost_usd: 0.02, calls: 2, cache_hits: 0, cost_saved_usd: 0 });
    } finally {
      process.off('warning', onWarning);
    }
  });
});
