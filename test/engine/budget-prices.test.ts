// A budget prices a call as its cost will be priced: by the pipeline's `prices:` and the provider's
// `type:`. A provider known only to the pipeline (an OpenAI-compatible server with its own prices)
// used to be unpriced when reserved — free — so a batch of such calls raced past max_cost_usd.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIFake } from '../fakes/index.js';
import { newEngine, runYaml } from './harness.js';

const fake = new OpenAIFake();
let baseUrl = '';
beforeAll(async () => {
  baseUrl = `${await fake.start()}/v1`;
});
afterAll(() => fake.stop());

const pipeline = (where: 'top' | 'child') => {
  const provider = `    local:
      type: openai
      base_url: "${baseUrl}"
      prices: { my-model: { input: 1000, output: 1000 } }`;
  const batch = `  - name: each
    type: batch
    items: [1, 2, 3, 4, 5, 6]
    max_parallel: 6
    step_template: { type: llm, provider: local, model: my-model, prompt: "item {{ item }}", max_tokens: 20 }`;
  return where === 'top'
    ? `name: priced\nbudget: { max_cost_usd: 0.1 }\nproviders:\n${provider.replace(/^ {2}/gm, '')}\nsteps:\n${batch}\n`
    : `name: priced\nbudget: { max_cost_usd: 0.1 }\nsteps:\n  - name: child\n    type: pipeline\n    pipeline:\n      name: inner\n      providers:\n${provider.replace(/^/gm, '    ')}\n      steps:\n${batch.replace(/^/gm, '    ')}\n`;
};

describe('budgets and a pipeline’s own prices', () => {
  it.each(['top', 'child'] as const)(
    'stops a batch of calls priced by `prices:` (declared at the %s level) at max_cost_usd',
    async (where) => {
      fake.reset();
      // Each answer uses its whole cap: what it costs is its worst case, ~3 input + 20 output tokens
      // at $1,000 per million = ~$0.023. The budget of $0.10 pays for four of them, never six —
      // priced as free, all six would go out.
      fake.setScript(() => ({ text: 'ok', usage: { input: 3, output: 20 } }));
      const result = await runYaml(newEngine(), pipeline(where));
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/budget|max_cost_usd/i);
      expect(fake.requests.length).toBeLessThanOrEqual(4);
      expect(result.totals.cost_usd).toBeLessThanOrEqual(0.1);
    },
  );
});
