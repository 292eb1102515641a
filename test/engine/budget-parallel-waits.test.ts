// A batch's parallel calls under max_cost_usd: a call that the budget can pay for, once the calls in
// flight have settled, waits for them instead of failing the run. Each call holds its worst case
// while in flight, so with max_parallel 10 and a budget of four worst cases, calls 5–10 used to be
// refused at once — the run failed having spent a fraction of its budget, although the same batch
// with max_parallel 1 fits. The budget is still never overshot: a call waits only while what is
// spent leaves room for it, and is refused once it does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIFake } from '../fakes/index.js';
import { newEngine, runYaml } from './harness.js';

const fake = new OpenAIFake();
let baseUrl = '';
beforeAll(async () => {
  baseUrl = `${await fake.start()}/v1`;
});
afterAll(() => fake.stop());

// Worst case of a call: a few input + 100 output tokens at $1,000 per million ≈ $0.10. Its real
// cost: the fake echoes the prompt (`echo: item N`, a few output tokens) ≈ $0.012.
const pipeline = (maxCost: number, items: number) => `name: fan-out
budget: { max_cost_usd: ${maxCost} }
providers:
  local:
    type: openai
    base_url: "${baseUrl}"
    prices: { my-model: { input: 1000, output: 1000 } }
steps:
  - name: each
    type: batch
    items: [${Array.from({ length: items }, (_, i) => i + 1).join(', ')}]
    max_parallel: 10
    step_template: { type: llm, provider: local, model: my-model, prompt: "item {{ item }}", max_tokens: 100 }
`;

describe('a budget under a parallel batch', () => {
  it('runs every call it can pay for, waiting for the calls in flight rather than refusing', async () => {
    fake.reset();
    fake.latencyMs = 20; // the ten calls overlap
    // $0.25 holds two worst cases in flight, and pays for all twelve calls (~$0.14).
    const result = await runYaml(newEngine(), pipeline(0.25, 12));
    expect(result.error ?? '').toBe('');
    expect(result.status).toBe('succeeded');
    expect(fake.requests.length).toBe(12);
    expect(result.totals.cost_usd).toBeLessThanOrEqual(0.25);
  });

  it('still refuses, and never overshoots, once what is spent leaves no room for a call', async () => {
    fake.reset();
    fake.latencyMs = 20;
    const result = await runYaml(newEngine(), pipeline(0.15, 40));
    expect(result.status).toBe('failed');
    // Refused for what is spent, not for calls in flight: none is left when it is refused.
    expect(result.error).toMatch(/spent \$0\.0\d of max_cost_usd \$0\.15, and this call could cost up to \$0\.10/);
    expect(fake.requests.length).toBeLessThan(40);
    expect(result.totals.cost_usd).toBeLessThanOrEqual(0.15);
  });
});
