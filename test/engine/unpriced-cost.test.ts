// A call to a model without a price has an unknown cost — but the calls of the same step that were
// priced were paid, at a known price. One unpriced call used to make the whole step's cost null, so
// the run's totals forgot the known part, and so did the budget of a resume, which starts from them:
// the resumed run spent past max_cost_usd. Known costs are kept; unpriced calls are counted apart.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createCliContext } from '../../src/cli/context.js';
import { printRunSummary, printSteps } from '../../src/cli/print-run.js';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { CallTally } from '../../src/engine/model-caller-for.js';
import { totalsOf } from '../../src/engine/run-result.js';
import { addCost } from '../../src/engine/step-handler.js';
import type { StepRecord } from '../../src/journal/store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import type { CallStats } from '../../src/resilience/model-caller.js';
import { createHarness, type Harness } from './batch-harness.js';

/** `openai`: $0.01 a call; a prompt with INVALID is answered with an object that fails its schema. */
class PaidProvider extends MockProvider {
  paid = 0;
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const response = await super.generate(request, signal);
    this.paid++;
    const invalid = request.messages.some((m) => m.content.includes('INVALID'));
    return { ...response, ...(invalid ? { object: { n: 'x' }, text: '{"n":"x"}' } : {}), costUsd: 0.01 };
  }
}

/** `gemini` on a model no price table knows, reporting no cost of its own: every call unpriced. */
class UnpricedProvider extends MockProvider {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { costUsd: _none, ...response } = await super.generate(request, signal);
    return response;
  }
}

/**
 * `openai` on a model no price table knows: only an answer that fails its schema reports a cost of
 * its own ($0.01, as a vendor's bill would); the repair that follows is unpriced.
 */
class HalfPricedProvider extends MockProvider {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { costUsd: _none, ...response } = await super.generate(request, signal);
    const first = request.messages.length === 1;
    return first ? { ...response, object: { n: 'x' }, text: '{"n":"x"}', costUsd: 0.01 } : response;
  }
}

/** `openai` on a model no price table knows: $0.01 a call, but a prompt with UNPRICED reports no cost. */
class ByPromptProvider extends MockProvider {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { costUsd: _none, ...response } = await super.generate(request, signal);
    return request.messages.some((m) => m.content.includes('UNPRICED')) ? response : { ...response, costUsd: 0.01 };
  }
}

let h: Harness;
afterEach(async () => {
  await h.cleanup();
});

function engineWith(factories: Record<string, () => MockProvider>): Engine {
  h = createHarness();
  return new Engine({
    store: h.store,
    env: { OPENAI_API_KEY: 'sk-test-000000000000', GEMINI_API_KEY: 'AIza-test-000000000000' },
    cache: false,
    gates: new GateRegistry(),
    providerFactories: factories as never,
  });
}

const schema = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };

describe('a step with calls of unknown price', () => {
  it('keeps the known cost of its paid calls, and a resume’s budget counts it', async () => {
    const paid = new PaidProvider();
    const engine = engineWith({ openai: () => paid, gemini: () => new UnpricedProvider() });
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'unpriced',
        budget: { max_cost_usd: 0.025 },
        steps: [
          {
            name: 'a',
            type: 'llm',
            provider: 'openai',
            model: 'gpt-4o',
            prompt: 'INVALID',
            max_tokens: 10,
            schema,
            max_repairs: 1, // two paid calls ($0.02) that never fit the schema, then the fallback answers
            fallback: { provider: 'gemini', model: 'some-unlisted-model' },
          },
          // Its worst case (~$0.006) on top of the $0.02 spent passes $0.025: the budget refuses it.
          { name: 'b', type: 'llm', provider: 'openai', model: 'gpt-4o', prompt: 'b', max_tokens: 600 },
        ],
      }),
    );
    const first = await (await engine.start(await loadPipeline(file), {})).result;
    expect(first.status).toBe('failed');
    expect(first.error).toMatch(/budget/);
    expect(paid.paid).toBe(2);

    // Nothing changed: the resumed run's budget starts from the $0.02 and refuses step b again.
    const resumed = await (await engine.resume(first.run_id)).result;
    expect(paid.paid).toBe(2);
    expect(resumed.status).toBe('failed');
    expect(resumed.error).toMatch(/budget: step "b".*spent \$0\.02 of/);

    // Step a: the $0.02 of its paid calls, and the fallback's call of unknown price counted apart.
    const a = resumed.steps.find((s) => s.name === 'a');
    expect(a?.status).toBe('succeeded');
    expect(a?.cost_usd).toBeCloseTo(0.02, 6);
    expect(a?.details).toMatchObject({ unpriced_calls: 1, calls: 3, fallback: 0 });
    for (const totals of [first.totals, resumed.totals]) {
      expect(totals).toMatchObject({ unpriced_calls: 1, calls: 3 });
      expect(totals.cost_usd).toBeCloseTo(0.02, 6);
    }
  });

  it('keeps the known part when its own calls mix priced and unpriced ones', async () => {
    const engine = engineWith({ openai: () => new HalfPricedProvider() });
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'mixed',
        steps: [{ name: 'a', type: 'openai', model: 'unlisted-model', prompt: 'n?', schema, max_repairs: 1 }],
      }),
    );
    const result = await (await engine.start(await loadPipeline(file), {})).result;
    expect(result.status).toBe('succeeded');
    const a = result.steps[0];
    expect(a?.cost_usd).toBe(0.01);
    expect(a?.details).toMatchObject({ calls: 2, unpriced_calls: 1 });
    expect(result.totals).toMatchObject({ cost_usd: 0.01, unpriced_calls: 1, calls: 2 });

    // On the terminal (`runs show`): the known part, marked as not the whole of it.
    let printed = '';
    const stdout = new Writable({
      write(chunk, _encoding, done) {
        printed += String(chunk);
        done();
      },
    });
    const ctx = createCliContext({ stdout, env: { NO_COLOR: '1' } });
    printSteps(result, ctx);
    printRunSummary(result, ctx);
    expect(printed).toMatch(/^a .*\$0\.01\+\?$/m);
    expect(printed).toContain('$0.01 (+ 1 call(s) of unknown price)');
  });

  it('is unknown (null), never $0, when none of its calls was priced', async () => {
    const engine = engineWith({ gemini: () => new UnpricedProvider() });
    const file = h.write(
      'p.yaml',
      JSON.stringify({ name: 'none', steps: [{ name: 'a', type: 'gemini', model: 'unlisted-model', prompt: 'hi' }] }),
    );
    const result = await (await engine.start(await loadPipeline(file), {})).result;
    expect(result.steps[0]?.cost_usd).toBeNull();
    expect(result.steps[0]?.details).toMatchObject({ unpriced_calls: 1 });
    expect(result.totals).toMatchObject({ cost_usd: 0, unpriced_calls: 1 });
  });
});

/** `openai` on a model no price table knows: a prompt with BAD gets an answer that fails its schema and no cost; others $0.01. */
class BadUnpricedProvider extends MockProvider {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { costUsd: _none, ...response } = await super.generate(request, signal);
    const bad = request.messages.some((m) => m.content.includes('BAD'));
    return bad ? { ...response, object: { n: 'x' }, text: '{"n":"x"}' } : { ...response, costUsd: 0.01 };
  }
}

describe('a failed attempt with calls of unknown price', () => {
  const pipeline = (step: Record<string, unknown>) =>
    JSON.stringify({
      name: 'failed-unpriced',
      steps: [{ name: 'a', type: 'openai', model: 'unlisted-model', prompt: 'BAD', schema, max_repairs: 0, ...step }],
    });

  it('counts them when the step fails and the run goes on', async () => {
    const engine = engineWith({ openai: () => new BadUnpricedProvider() });
    const file = h.write('p.yaml', pipeline({ on_error: 'continue' }));
    const result = await (await engine.start(await loadPipeline(file), {})).result;
    expect(result.steps[0]?.status).toBe('failed');
    expect(result.steps[0]?.details).toMatchObject({ unpriced_calls: 1 });
    expect(result.totals).toMatchObject({ unpriced_calls: 1, calls: 1 });
  });

  it('counts them beside the fallback that succeeded', async () => {
    const engine = engineWith({ openai: () => new BadUnpricedProvider() });
    const file = h.write('p.yaml', pipeline({ fallback: { prompt: 'fine' } }));
    const result = await (await engine.start(await loadPipeline(file), {})).result;
    expect(result.status).toBe('succeeded');
    expect(result.steps[0]?.cost_usd).toBeCloseTo(0.01, 6);
    expect(result.steps[0]?.details).toMatchObject({ unpriced_calls: 1, calls: 2, fallback: 0 });
    expect(result.totals).toMatchObject({ unpriced_calls: 1, calls: 2 });
  });
});

describe('a batch with items of unknown cost', () => {
  it('costs what its priced items cost, and counts the others apart', async () => {
    const engine = engineWith({ openai: () => new ByPromptProvider() });
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'fan',
        steps: [
          {
            name: 'each',
            type: 'batch',
            items: ['a', 'UNPRICED', 'c'],
            step_template: { type: 'openai', model: 'unlisted-model', prompt: '{{ item }}' },
          },
        ],
      }),
    );
    const result = await (await engine.start(await loadPipeline(file), {})).result;
    expect(result.status).toBe('succeeded');
    expect(result.steps[0]?.cost_usd).toBe(0.02);
    expect(result.steps[0]?.details).toMatchObject({ unpriced_calls: 1 });
    expect(result.totals).toMatchObject({ cost_usd: 0.02, unpriced_calls: 1, calls: 3 });
  });
});

describe('the pieces', () => {
  const call = (costUsd: number | null, more: Partial<CallStats> = {}): CallStats => ({
    key: 'k',
    provider: 'p',
    model: 'm',
    attempts: 1,
    retries: 0,
    cached: false,
    replayed: false,
    usage: { inputTokens: 1, outputTokens: 1 },
    costUsd,
    costSavedUsd: 0,
    durationMs: 1,
    ...more,
  });

  it('CallTally keeps the cost of the priced calls and counts the unpriced ones', () => {
    const tally = new CallTally();
    tally.add(call(0.5));
    tally.add(call(null));
    tally.add(call(0, { cached: true, costSavedUsd: 0.5 }));
    expect(tally.costUsd).toBe(0.5);
    expect(tally.details()).toMatchObject({ calls: 3, unpriced_calls: 1, cache_hits: 1 });

    const unknown = new CallTally();
    unknown.add(call(null));
    expect(unknown.costUsd).toBeNull();
    const free = new CallTally();
    free.add(call(0));
    expect(free.costUsd).toBe(0);
    expect(free.details()).not.toHaveProperty('unpriced_calls');
  });

  it('addCost keeps what is known, and stays unknown only when nothing is', () => {
    expect(addCost(0.02, null)).toBe(0.02);
    expect(addCost(null, 0.02)).toBe(0.02);
    expect(addCost(null, 0)).toBeNull();
    expect(addCost(0, null)).toBeNull();
    expect(addCost(null, null)).toBeNull();
    expect(addCost(0.01, 0.02)).toBeCloseTo(0.03, 10);
  });

  it('totalsOf counts a step’s known cost and its unpriced calls; an old null row counts one', () => {
    const row = (key: string, costUsd: number | null, details?: Record<string, unknown>): StepRecord => ({
      runId: 'r',
      key,
      name: key,
      type: 'llm',
      status: 'succeeded',
      usage: { inputTokens: 10, outputTokens: 5 },
      costUsd,
      durationMs: 1,
      attempts: 1,
      startedAt: 0,
      finishedAt: 0,
      details: { calls: 1, ...details },
    });
    const totals = totalsOf([
      row('mixed', 0.02, { unpriced_calls: 2 }),
      row('none', null, { unpriced_calls: 3 }),
      row('old', null),
      row('priced', 0.01),
    ]);
    expect(totals.costUsd).toBeCloseTo(0.03, 10);
    expect(totals.unpricedCalls).toBe(6);
  });
});
