// An answer that hits the request's max_tokens inside a tool call's JSON arguments (OpenAI
// finish_reason `length`, streamed or not; an Anthropic stream whose input_json_delta stops before
// stop_reason `max_tokens`, or a non-streamed Anthropic answer ending in that tool_use) cannot be used, and would be cut at the same place again: it is
// `output_limit`, not retried — one paid request, not three. A malformed answer that is not a length
// cut (a server's fault) is still retried. Either way the vendor answered and billed it: the usage it
// reported is the call's (priced like an answer, committed to the budget, on the response event),
// never 0 tokens and $0. Through the real SDKs against the fake servers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetGuard } from '../../src/budget/budget-guard.js';
import { CallCache } from '../../src/journal/call-cache.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider, Usage } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { type CallStats, createModelCaller, type ModelCallerDeps } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import type { EventMap } from '../../src/telemetry/events.js';
import { AnthropicFake, type FakeAnswer, type FakeServer, OpenAIFake } from '../fakes/index.js';
import { MemoryCallStore } from './stub-provider.js';

const KEY = 'sk-test-0123456789abcdef';
const openai = new OpenAIFake();
const anthropic = new AnthropicFake();
beforeAll(async () => {
  await Promise.all([openai.start(), anthropic.start()]);
});
afterAll(async () => {
  await Promise.all([openai.stop(), anthropic.stop()]);
});
beforeEach(() => {
  openai.reset();
  anthropic.reset();
});

interface Case {
  label: string;
  fake: () => FakeServer;
  provider: () => Provider;
  name: string;
  model: string;
  stream: boolean;
}

const CASES: Case[] = [
  {
    label: 'openai, not streamed',
    fake: () => openai,
    provider: () => new OpenAIProvider({ apiKey: KEY, baseUrl: `${openai.baseUrl}/v1` }),
    name: 'openai',
    model: 'gpt-4o-mini',
    stream: false,
  },
  {
    label: 'openai, streamed',
    fake: () => openai,
    provider: () => new OpenAIProvider({ apiKey: KEY, baseUrl: `${openai.baseUrl}/v1` }),
    name: 'openai',
    model: 'gpt-4o-mini',
    stream: true,
  },
  {
    label: 'anthropic, streamed',
    fake: () => anthropic,
    provider: () => new AnthropicProvider({ apiKey: KEY, baseUrl: anthropic.baseUrl }),
    name: 'anthropic',
    model: 'claude-haiku-4-5',
    stream: true,
  },
];

const USAGE = { input: 120, output: 20 };
const TOOL_CALL = { name: 'lookup', arguments: { query: 'a fairly long search query for the tool' } };
/** Cut by the request's max_tokens inside the arguments. */
const CUT: FakeAnswer = { toolCalls: [TOOL_CALL], finishReason: 'length', cutArguments: 14, usage: USAGE };
/** The same broken arguments, but the answer says it finished: a malformed answer. */
const MALFORMED: FakeAnswer = { toolCalls: [TOOL_CALL], finishReason: 'tool_calls', cutArguments: 14, usage: USAGE };
const GOOD: FakeAnswer = { toolCalls: [TOOL_CALL], usage: { input: 120, output: 15 } };

// $1 per 1000 tokens: every figure below is easy to check.
const price = (_p: string, _m: string, u: Usage) => (u.inputTokens + u.outputTokens) / 1000;

function setup(c: Case, extra: Partial<ModelCallerDeps> = {}) {
  const bus = new EventBus();
  const responses: Array<EventMap['pipeline.provider.response']> = [];
  bus.on('pipeline.provider.response', (e) => responses.push(e));
  const stats: CallStats[] = [];
  const provider = c.provider();
  const call = createModelCaller({
    resolveProvider: () => provider,
    gates: new GateRegistry(bus),
    bus,
    runId: 'r',
    step: 's',
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
    price,
    onCallFinished: (s) => stats.push(s),
    ...extra,
  });
  const run = () =>
    call(
      {
        provider: c.name,
        model: c.model,
        maxTokens: 20,
        messages: [{ role: 'user', content: 'find it' }],
        tools: [{ name: 'lookup', description: 'looks it up', parameters: { type: 'object' } }],
      },
      { signal: AbortSignal.timeout(10_000), stream: c.stream },
    );
  return { run, stats, responses };
}

describe.each(CASES)('$label', (c) => {
  it('a tool call cut off by max_tokens is not retried, says to raise max_tokens, and keeps its bill', async () => {
    const fake = c.fake();
    fake.setScript(() => CUT);
    const budget = new BudgetGuard({ maxCostUsd: 10 }, price);
    const { run, stats, responses } = setup(c, { budget });

    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'output_limit', retryable: false, providerFault: false });
    expect((error as Error).message).toContain('max_tokens (20)');
    expect((error as Error).message).toContain('tool call lookup');
    expect(fake.requests).toHaveLength(1); // one paid request, not three
    // What the server reported, priced like an answer.
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ attempts: 1, retries: 0, usage: { inputTokens: 120, outputTokens: 20 } });
    expect(stats[0]?.costUsd).toBeCloseTo(0.14, 10);
    expect(responses[0]).toMatchObject({ usage: { inputTokens: 120, outputTokens: 20 }, error: expect.any(String) });
    expect(responses[0]?.costUsd).toBeCloseTo(0.14, 10);
    // Committed to the budget (what was spent), not released.
    expect(budget.spent.tokens).toBe(140);
    expect(budget.spent.costUsd).toBeCloseTo(0.14, 10);
  });

  it('a malformed answer (no length cut) is retried, and every billed attempt counts', async () => {
    const fake = c.fake();
    fake.queueAnswers(MALFORMED, GOOD);
    const budget = new BudgetGuard({ maxCostUsd: 10 }, price);
    const cache = new CallCache(new MemoryCallStore());
    const { run, stats, responses } = setup(c, { budget, cache });

    const response = await run();

    expect(response.toolCalls[0]?.arguments).toEqual(TOOL_CALL.arguments);
    expect(fake.requests).toHaveLength(2);
    // The call's bill: the malformed answer (120 + 20) and the good one (120 + 15).
    expect(stats[0]).toMatchObject({ attempts: 2, retries: 1, usage: { inputTokens: 240, outputTokens: 35 } });
    expect(stats[0]?.costUsd).toBeCloseTo(0.275, 10);
    expect(responses).toHaveLength(1);
    expect(responses[0]?.usage).toEqual({ inputTokens: 240, outputTokens: 35 });
    expect(budget.spent.tokens).toBe(275);
    expect(budget.spent.costUsd).toBeCloseTo(0.275, 10);
    // A cache hit of this answer saves the answer's own cost, not the failed attempt's.
    await run();
    expect(fake.requests).toHaveLength(2);
    expect(stats[1]).toMatchObject({ cached: true, costUsd: 0 });
    expect(stats[1]?.costSavedUsd).toBeCloseTo(0.135, 10);
  });

  it('a malformed answer every time fails after its attempts, each one billed', async () => {
    const fake = c.fake();
    fake.setScript(() => MALFORMED);
    const { run, stats } = setup(c);

    await expect(run()).rejects.toMatchObject({ kind: 'invalid_response' });

    expect(fake.requests).toHaveLength(3);
    expect(stats[0]).toMatchObject({ attempts: 3, retries: 2, usage: { inputTokens: 360, outputTokens: 60 } });
    expect(stats[0]?.costUsd).toBeCloseTo(0.42, 10);
  });
});

describe('a budget', () => {
  // One reservation for the whole call let its billed attempts run past the budget: each retry is
  // another paid request, so it is reserved anew once the attempt before it was billed.
  it('refuses the retry of a billed attempt it cannot afford, and keeps what was paid', async () => {
    const [c] = CASES as [Case];
    openai.setScript(() => MALFORMED);
    // Each attempt costs $0.14 and is estimated at a few cents: after one, $0.15 has no room for another.
    const budget = new BudgetGuard({ maxCostUsd: 0.15 }, price);
    const { run, stats } = setup(c, { budget });
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(openai.requests).toHaveLength(1); // not three paid requests under a budget of one
    expect(budget.spent.costUsd).toBeCloseTo(0.14, 10);
    expect(stats[0]).toMatchObject({ usage: { inputTokens: 120, outputTokens: 20 } });
    expect(stats[0]?.costUsd).toBeCloseTo(0.14, 10);
  });

  it('lets a retry it can afford go, and commits every attempt once', async () => {
    const [c] = CASES as [Case];
    openai.queueAnswers(MALFORMED, GOOD);
    const budget = new BudgetGuard({ maxCostUsd: 10 }, price);
    const { run } = setup(c, { budget });
    await run();
    expect(openai.requests).toHaveLength(2);
    expect(budget.spent.costUsd).toBeCloseTo(0.275, 10);
    expect(budget.spent.tokens).toBe(275);
  });
});

describe('an unpriced model', () => {
  it('a billed failed call keeps its tokens and an unknown cost (null), never $0', async () => {
    const [c] = CASES as [Case];
    openai.setScript(() => CUT);
    const { run, stats } = setup(c, { price: () => null });
    await expect(run()).rejects.toMatchObject({ kind: 'output_limit' });
    expect(stats[0]).toMatchObject({ usage: { inputTokens: 120, outputTokens: 20 }, costUsd: null });
  });
});

describe('anthropic, not streamed: the API hands a cut tool input over parsed', () => {
  const c: Case = {
    label: 'anthropic, not streamed',
    fake: () => anthropic,
    provider: () => new AnthropicProvider({ apiKey: KEY, baseUrl: anthropic.baseUrl }),
    name: 'anthropic',
    model: 'claude-haiku-4-5',
    stream: false,
  };
  // Two parameters; the cut falls inside the second: the answer carries the first alone.
  const TWO = { name: 'lookup', arguments: { q: 'x', query: 'a fairly long search query for the tool' } };

  it('a tool call cut by max_tokens is output_limit (not a call with half its input), billed once', async () => {
    anthropic.setScript(() => ({ ...CUT, toolCalls: [TWO], cutArguments: 20 }));
    const { run, stats } = setup(c);
    await expect(run()).rejects.toMatchObject({ kind: 'output_limit', retryable: false });
    expect(anthropic.requests).toHaveLength(1);
    expect(stats[0]).toMatchObject({ attempts: 1, usage: { inputTokens: 120, outputTokens: 20 } });
    expect(stats[0]?.costUsd).toBeCloseTo(0.14, 10);
  });

  it('a structured answer cut by max_tokens is output_limit, not a partial object', async () => {
    anthropic.setScript(() => ({ json: TWO.arguments, finishReason: 'length', cutArguments: 20, usage: USAGE }));
    const provider = c.provider();
    const request = {
      provider: 'anthropic',
      model: c.model,
      maxTokens: 20,
      messages: [{ role: 'user' as const, content: 'find it' }],
      schema: { type: 'object', properties: { q: { type: 'string' }, query: { type: 'string' } } },
    };
    await expect(provider.generate(request, AbortSignal.timeout(10_000))).rejects.toMatchObject({
      kind: 'output_limit',
      usage: { inputTokens: 120, outputTokens: 20 },
    });
  });

  it('a tool call that ends its answer (stop_reason tool_use) is the call, whole', async () => {
    anthropic.setScript(() => GOOD);
    const { run } = setup(c);
    const response = await run();
    expect(response.toolCalls[0]?.arguments).toEqual(TOOL_CALL.arguments);
  });
});
