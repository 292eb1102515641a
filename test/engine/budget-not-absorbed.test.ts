// A budget refusal is the run's limit, not a step's failure: neither `on_item_error: continue` nor
// `on_error: continue` absorbs it. The run fails, resumable with a larger budget, instead of
// "succeeding" with the refused work recorded as failed (which no resume could ever finish).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faults, OpenAIFake } from '../fakes/index.js';
import { newEngine, runYaml } from './harness.js';

const fake = new OpenAIFake();
let baseUrl = '';
beforeAll(async () => {
  baseUrl = `${await fake.start()}/v1`;
});
afterAll(() => fake.stop());

// Each call's worst case: a few input + 20 output tokens at $1,000 per million ≈ $0.023.
const providers = () => `providers:
  local:
    type: openai
    base_url: "${baseUrl}"
    prices: { my-model: { input: 1000, output: 1000 } }
`;

describe('a budget refusal', () => {
  it('stops a batch under on_item_error: continue, and a resume with a larger budget finishes it', async () => {
    fake.reset();
    const engine = newEngine();
    const result = await runYaml(
      engine,
      `name: capped
budget: { max_cost_usd: 0.05 }
${providers()}steps:
  - name: each
    type: batch
    items: [1, 2, 3, 4, 5, 6]
    max_parallel: 1
    on_item_error: continue
    step_template: { type: llm, provider: local, model: my-model, prompt: "item {{ item }}", max_tokens: 20 }
`,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget|max_cost_usd/i);
    const paidFirst = fake.requests.length;
    expect(paidFirst).toBeGreaterThan(0);
    expect(paidFirst).toBeLessThan(6);

    const resumed = await (await engine.resume(result.run_id, { maxCostUsd: 1 })).result;
    expect(resumed.status).toBe('succeeded');
    // Only the items the budget had refused were called.
    expect(fake.requests.length).toBe(6);
  });

  it('fails a step with on_error: continue instead of letting the run go on', async () => {
    fake.reset();
    const result = await runYaml(
      newEngine(),
      `name: capped-step
budget: { max_cost_usd: 0.01 }
${providers()}steps:
  - name: dear
    type: llm
    provider: local
    model: my-model
    prompt: "hello"
    max_tokens: 20
    on_error: continue
  - name: after
    type: set_variable
    variables: { after: ran }
`,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget|max_cost_usd/i);
    expect(fake.requests.length).toBe(0);
    expect(result.steps.map((s) => s.key)).not.toContain('after');
  });

  // The group and the pipeline step fail with their sub-step's StepFailedError, whose cause is the
  // refusal: their own `on_error: continue` must see it there.
  it.each([
    [
      'a parallel group',
      () => `  - name: outer
    type: parallel
    on_error: continue
    steps:
      - { name: dear, type: llm, provider: local, model: my-model, prompt: hello, max_tokens: 20 }
`,
      'dear',
    ],
    [
      'a pipeline step',
      // The base URL is known once the fake has started: written when the test runs.
      () => `  - name: outer
    type: pipeline
    on_error: continue
    pipeline:
      name: child
${providers().trimEnd().replace(/^/gm, '      ')}
      steps:
        - { name: dear, type: llm, provider: local, model: my-model, prompt: hello, max_tokens: 20 }
`,
      'outer/dear',
    ],
  ])('fails %s with on_error: continue whose sub-step was refused, resumable', async (_what, composite, refused) => {
    fake.reset();
    const engine = newEngine();
    const result = await runYaml(
      engine,
      `name: capped-composite
budget: { max_cost_usd: 0.01 }
${providers()}steps:
${composite()}  - name: after
    type: set_variable
    variables: { after: ran }
`,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget|max_cost_usd/i);
    expect(fake.requests.length).toBe(0);
    expect(result.steps.map((s) => s.key)).not.toContain('after');
    expect(result.steps.find((s) => s.key === 'outer')?.status).toBe('failed');

    // Not a "succeeded" run with holes: a larger budget runs the refused call, then the rest.
    const resumed = await (await engine.resume(result.run_id, { maxCostUsd: 1 })).result;
    expect(resumed.status).toBe('succeeded');
    expect(fake.requests.length).toBe(1);
    expect(resumed.steps.find((s) => s.key === refused)?.status).toBe('succeeded');
    expect(resumed.steps.find((s) => s.key === 'after')?.status).toBe('succeeded');
  });

  it("fails a group with on_error: continue whose sub-step's fallback was refused", async () => {
    fake.reset();
    // The first call is refused by the vendor (nothing paid); its fallback, asking for more, by the
    // budget. The sub-step's failure names both, and must still carry the refusal to its group.
    fake.injectFault(faults.badRequest());
    const result = await runYaml(
      newEngine(),
      `name: capped-fallback
budget: { max_cost_usd: 0.03 }
${providers()}steps:
  - name: outer
    type: parallel
    on_error: continue
    steps:
      - name: dear
        type: llm
        provider: local
        model: my-model
        prompt: hello
        max_tokens: 20
        fallback: { max_tokens: 200 }
  - name: after
    type: set_variable
    variables: { after: ran }
`,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/fallback failed: .*max_cost_usd/i);
    expect(fake.requests.length).toBe(1);
    expect(result.steps.map((s) => s.key)).not.toContain('after');
  });
});
