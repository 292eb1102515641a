// A budget admits a call for its worst case, whose output part is the cap the call carries. A step
// without max_tokens was estimated at 4096 output tokens, but the OpenAI and Gemini providers then
// sent no cap at all: one long answer took the run several times past max_cost_usd. Under a budget
// every call now goes out with the cap its estimate assumed (Gemini's generation_config.maxOutputTokens
// included); without a budget, requests are what they were.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { estimateUsage, outputCapOf, withOutputCap } from '../../src/budget/estimate.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ModelRequest } from '../../src/providers/provider.js';
import { closePools } from '../../src/resilience/connection-pool.js';
import { GeminiFake, OpenAIFake } from '../fakes/index.js';
import { newEngine, runYaml } from './harness.js';

const openai = new OpenAIFake();
const gemini = new GeminiFake();
let env: Record<string, string>;

beforeAll(async () => {
  env = {
    OPENAI_BASE_URL: `${await openai.start()}/v1`,
    OPENAI_API_KEY: 'fake-openai-key',
    GOOGLE_GEMINI_BASE_URL: await gemini.start(),
    GEMINI_API_KEY: 'fake-gemini-key',
  };
});
beforeEach(() => {
  openai.reset();
  gemini.reset();
});
afterAll(async () => {
  await Promise.all([openai.stop(), gemini.stop()]);
  await closePools();
});

/** A pipeline of one step; `budget` and the step's extra keys as given. */
const pipeline = (budget: string | undefined, step: string) =>
  `name: capped\n${budget ? `budget: ${budget}\n` : ''}defaults: { cache: false }\nsteps:\n  - { name: s, ${step} }\n`;

type Body = Record<string, unknown> & { generationConfig?: Record<string, unknown> };
const sent = (fake: OpenAIFake | GeminiFake, i = 0) => (fake.requests[i]?.body ?? {}) as Body;

describe('under a budget, a call without max_tokens', () => {
  it('goes to an OpenAI-compatible server with the cap the budget assumed, and costs no more', async () => {
    openai.queueAnswers({ text: 'a very long answer', usage: { input: 10, output: 20_000 } });
    const result = await runYaml(
      newEngine({ env }),
      pipeline('{ max_cost_usd: 0.05 }', 'type: openai, model: gpt-4o, prompt: "write"'),
    );
    expect(sent(openai).max_tokens).toBe(4096);
    expect(result.status).toBe('succeeded');
    expect(result.totals.output_tokens).toBe(4096);
    expect(result.totals.cost_usd).toBeLessThanOrEqual(0.05);
  });

  it('goes to api.openai.com as max_completion_tokens, the field a step’s own max_tokens takes', async () => {
    // api.openai.com, reached through a fetch that delivers to the fake.
    const engine = newEngine({
      env,
      providerFactories: {
        openai: (settings) =>
          new OpenAIProvider({
            name: settings.name,
            apiKey: 'sk-test',
            baseUrl: 'https://api.openai.com/v1',
            fetch: (input, init) =>
              fetch(
                String(input instanceof Request ? input.url : input).replace('https://api.openai.com', openai.baseUrl),
                init,
              ),
          }),
      },
    });
    const budget = '{ max_cost_usd: 0.05 }';
    await runYaml(engine, pipeline(budget, 'type: openai, model: gpt-4o, prompt: "write"'));
    await runYaml(engine, pipeline(budget, 'type: openai, model: gpt-4o, prompt: "write", max_tokens: 50'));
    expect(sent(openai, 0)).toMatchObject({ max_completion_tokens: 4096 });
    expect(sent(openai, 0)).not.toHaveProperty('max_tokens');
    expect(sent(openai, 1)).toMatchObject({ max_completion_tokens: 50 });
  });

  it('goes to Gemini with maxOutputTokens, and costs no more than the budget let through', async () => {
    gemini.queueAnswers({ text: 'a very long answer', usage: { input: 10, output: 20_000 } });
    const result = await runYaml(
      newEngine({ env }),
      pipeline('{ max_cost_usd: 0.05 }', 'type: gemini, model: gemini-2.5-pro, prompt: "write"'),
    );
    expect(sent(gemini).generationConfig?.maxOutputTokens).toBe(4096);
    expect(result.status).toBe('succeeded');
    expect(result.totals.cost_usd).toBeLessThanOrEqual(0.05);
  });

  it('is held to the tokens limit of a budget too', async () => {
    const result = await runYaml(
      newEngine({ env }),
      pipeline('{ max_tokens: 10000 }', 'type: openai, model: gpt-4o, prompt: "write"'),
    );
    expect(result.status).toBe('succeeded');
    expect(sent(openai).max_tokens).toBe(4096);
  });
});

describe('Gemini’s generation_config.maxOutputTokens under a budget', () => {
  it('is the cap the budget reckons with: a call that could cost more than the budget is not made', async () => {
    // gemini-2.5-pro: $10 per million output tokens; 20,000 of them could cost $0.20.
    gemini.queueAnswers({ text: 'a very long answer', usage: { input: 10, output: 20_000 } });
    const result = await runYaml(
      newEngine({ env }),
      pipeline(
        '{ max_cost_usd: 0.05 }',
        'type: gemini, model: gemini-2.5-pro, prompt: "write", generation_config: { maxOutputTokens: 20000 }',
      ),
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/budget/);
    expect(gemini.requests).toHaveLength(0);
    expect(result.totals.cost_usd).toBe(0);
  });

  it('is kept when the budget allows it, and sent as the request’s cap', async () => {
    const result = await runYaml(
      newEngine({ env }),
      pipeline(
        '{ max_cost_usd: 0.05 }',
        'type: gemini, model: gemini-2.5-pro, prompt: "write", generation_config: { maxOutputTokens: 1000, topK: 3 }',
      ),
    );
    expect(result.status).toBe('succeeded');
    expect(sent(gemini).generationConfig).toMatchObject({ maxOutputTokens: 1000, topK: 3 });
  });
});

describe('without a budget', () => {
  it('a call without max_tokens is sent as before, with no cap', async () => {
    await runYaml(newEngine({ env }), pipeline(undefined, 'type: openai, model: gpt-4o, prompt: "write"'));
    await runYaml(newEngine({ env }), pipeline(undefined, 'type: gemini, model: gemini-2.5-pro, prompt: "write"'));
    expect(sent(openai)).not.toHaveProperty('max_tokens');
    expect(sent(openai)).not.toHaveProperty('max_completion_tokens');
    expect(sent(gemini).generationConfig ?? {}).not.toHaveProperty('maxOutputTokens');
  });
});

describe('the estimate reads the cap a request carries', () => {
  const request = (more: Partial<ModelRequest>): ModelRequest => ({
    provider: 'gemini',
    model: 'gemini-2.5-pro',
    messages: [{ role: 'user', content: 'hi' }],
    ...more,
  });

  it('max_tokens, else a cap in the extras, else none', () => {
    expect(outputCapOf(request({ maxTokens: 50, extra: { generation_config: { maxOutputTokens: 900 } } }))).toBe(50);
    expect(outputCapOf(request({ extra: { generation_config: { maxOutputTokens: 900 } } }))).toBe(900);
    expect(outputCapOf(request({ extra: { generation_config: { maxOutputTokens: '900' } } }))).toBe(900);
    expect(outputCapOf(request({ extra: { max_completion_tokens: 300, max_tokens: 200 } }))).toBe(300);
    expect(outputCapOf(request({ extra: { generation_config: { topK: 3 } } }))).toBeUndefined();
    expect(outputCapOf(request({}))).toBeUndefined();
    expect(estimateUsage(request({ extra: { generation_config: { maxOutputTokens: 20_000 } } })).outputTokens).toBe(
      20_000,
    );
    expect(estimateUsage(request({})).outputTokens).toBe(4096);
  });

  it('withOutputCap makes the assumed cap the request’s own', () => {
    const capped = request({});
    expect(withOutputCap(capped).maxTokens).toBe(4096);
    expect(withOutputCap(request({ extra: { generation_config: { maxOutputTokens: 900 } } })).maxTokens).toBe(900);
    const named = request({ maxTokens: 10 });
    expect(withOutputCap(named)).toBe(named);
  });

  it('leaves room for Anthropic’s thinking budget (the API refuses a cap not above it)', () => {
    const thinking = request({ extra: { thinking: { type: 'enabled', budget_tokens: 8000 } } });
    expect(withOutputCap(thinking).maxTokens).toBe(12_096);
    expect(estimateUsage(thinking).outputTokens).toBe(12_096);
    const off = request({ extra: { thinking: { type: 'disabled', budget_tokens: 8000 } } });
    expect(withOutputCap(off).maxTokens).toBe(4096);
    // A cap of its own is kept: the API's refusal of a cap too small is the step's to see.
    expect(
      withOutputCap(request({ extra: { max_tokens: 9000, thinking: { type: 'enabled', budget_tokens: 8000 } } }))
        .maxTokens,
    ).toBe(9000);
  });
});

describe('the OpenAI provider', () => {
  it('sends the request’s cap alone, not a second one from the extras', async () => {
    const provider = new OpenAIProvider({ apiKey: 'sk-test', baseUrl: `${openai.baseUrl}/v1` });
    await provider.generate(
      {
        provider: 'openai',
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        maxTokens: 100,
        extra: { max_completion_tokens: 9000 },
      },
      AbortSignal.timeout(5000),
    );
    expect(sent(openai)).toMatchObject({ max_tokens: 100 });
    expect(sent(openai)).not.toHaveProperty('max_completion_tokens');
  });
});
