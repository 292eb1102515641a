// A step that fails after calls answered from the cache: its record keeps them, so the run's totals
// count the cache hits and what they saved, as they do for a step that succeeds.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { CallCache } from '../../src/journal/call-cache.js';
import { createHarness, type Harness } from './batch-harness.js';
import { PaidModel } from './paid-model.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

it('a failed step answered from the cache counts its cache hits and savings', async () => {
  const model = new PaidModel();
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
          prompt: 'give me a number',
          schema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
          response: { n: 'not a number' },
          max_repairs: 2,
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
