// A step that fails after calls answered from the cache: its record keeps them, so the run's totals
// count the cache hits and what they saved, as they do for a step that succeeds. (The step fails on
// its tool loop, past max_turns: answers the call loop rejects — a structured answer that does not
// validate — are never cached, test/llm/rejected-answers-cache.test.ts.)
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { CallCache } from '../../src/journal/call-cache.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { createHarness, type Harness } from './batch-harness.js';
import { PaidModel } from './paid-model.js';

/** A paid model that asks to read the pipeline again at every turn: the step runs past max_turns. */
class AlwaysReading extends PaidModel {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const response = await super.generate(request, signal);
    return {
      ...response,
      toolCalls: [{ id: 'read-1', name: 'read_file', arguments: { path: 'p.yaml' } }],
      finishReason: 'tool_calls',
    };
  }
}

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

it('a failed step answered from the cache counts its cache hits and savings', async () => {
  const model = new AlwaysReading();
  const engine = new Engine({
    store: h.store,
    env: {},
    cache: new CallCache(h.store),
    providerFactories: { mock: () => model },
  });
  const file = h.write(
    'p.yaml',
    JSON.stringify({
      name: 'c',
      steps: [
        {
          name: 's',
          type: 'mock',
          prompt: 'read the pipeline',
          tools: ['read_file'],
          max_turns: 2,
          on_error: 'continue',
        },
      ],
    }),
  );
  const run = async () => (await engine.start(await loadPipeline(file), { mock: true })).result;
  const first = await run();
  expect(first.steps[0]?.status).toBe('failed');
  expect(model.paid).toBe(3);
  const second = await run(); // the same three calls, each answered from the cache
  expect(model.paid).toBe(3);
  expect(second.steps[0]?.status).toBe('failed');
  expect(second.totals.cache_hits).toBe(3);
  expect(second.totals.cost_saved_usd).toBeCloseTo(0.03, 6);
  expect(second.totals.cost_usd).toBe(0);
});
