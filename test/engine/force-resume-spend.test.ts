// `resume --force` forgets the journaled steps from the first changed one on, so that they run
// again — but what they spent was paid: the run's totals, and its budget on every later attempt,
// must still count it (Store.deleteSteps keeps it with the run).
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import type { RunResult } from '../../src/engine/run-result.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { pipelineFile, tempDir } from './harness.js';

/** The mock, but its answers are priced by the pipeline's `prices:` instead of being free. */
class PricedMock extends MockProvider {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const { costUsd: _free, ...response } = await super.generate(request, signal);
    return response;
  }
}

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function engine(): Engine {
  const store = new SqliteStore(`${tempDir()}/journal.db`);
  stores.push(store);
  // `paid` is an OpenAI-compatible provider to the pipeline (so `prices:` apply); the mock answers.
  const env = { OPENAI_API_KEY: 'test-key' };
  return new Engine({ store, env, cache: false, providerFactories: { openai: () => new PricedMock('paid') } });
}

// $0.01 per input token; the mock answers ~1 input token per 4 characters of prompt. A long prompt
// (400 characters) costs about $1, a short one a cent.
const LONG = 'x'.repeat(400);
const pipeline = (b: string, c: string) => `name: paid
providers:
  paid:
    type: openai
    prices: { m1: { input: 10000, output: 0 } }
steps:
  - name: a
    type: llm
    provider: paid
    model: m1
    prompt: "a"
    max_tokens: 10
${b}
${c}
`;
/** b as a batch of three long (paid) items: its spend is in its items. */
const batchB = `  - name: b
    type: batch
    items: [1, 2, 3]
    step_template: { type: llm, provider: paid, model: m1, prompt: "{{ item }} ${LONG}", max_tokens: 10 }`;
const shortB = (prompt: string) =>
  `  - name: b\n    type: llm\n    provider: paid\n    model: m1\n    prompt: "${prompt}"\n    max_tokens: 10`;
/** c, a free mock step that fails (its one attempt) unless `fails` is false. */
const mockC = (prompt: string, fails = true) =>
  `  - name: c\n    type: mock\n    prompt: "${prompt}"${fails ? '\n    fail_first: 5\n    retry: { max_attempts: 1 }' : ''}`;

/** What the steps `names` of a result spent, as its totals count it. */
function spentBy(result: RunResult, names: string[]) {
  const steps = result.steps.filter((s) => names.includes(s.name));
  return {
    cost: steps.reduce((sum, s) => sum + (s.cost_usd ?? 0), 0),
    input: steps.reduce((sum, s) => sum + s.usage.input_tokens, 0),
    calls: steps.reduce((sum, s) => sum + Number(s.details?.calls ?? 0), 0),
  };
}

/** Runs v1 (a, the batch b, c failing): the run fails at c after paying for a and b. */
async function failedFirstRun(e: Engine, file: string): Promise<RunResult> {
  writeFileSync(file, pipeline(batchB, mockC('c')));
  const first = await (await e.start(await loadPipeline(file))).result;
  expect(first.status).toBe('failed');
  expect(first.failed_step).toBe('c');
  // a's call, b's three items and c's failed attempt.
  expect(first.totals.calls).toBe(5);
  expect(first.totals.cost_usd).toBeGreaterThan(3);
  return first;
}

describe('resume --force and what the forgotten steps spent', () => {
  it("keeps the forgotten steps' tokens, cost and calls in the run's totals, over two forced resumes", async () => {
    const e = engine();
    const { file } = pipelineFile('');
    const first = await failedFirstRun(e, file);

    // b and c change: both are forgotten and run again; c fails again.
    writeFileSync(file, pipeline(shortB('b2'), mockC('c2')));
    const second = await (await e.resume(first.run_id, { force: true })).result;
    expect(second.status).toBe('failed');
    const rerun = spentBy(second, ['b', 'c']);
    expect(rerun.calls).toBe(2);
    expect(second.totals.calls).toBe(first.totals.calls + rerun.calls);
    expect(second.totals.input_tokens).toBe(first.totals.input_tokens + rerun.input);
    expect(second.totals.cost_usd).toBeCloseTo(first.totals.cost_usd + rerun.cost, 6);

    // Forced again: what the first --force kept is kept on, with what this one forgets.
    writeFileSync(file, pipeline(shortB('b3'), mockC('c3', false)));
    const third = await (await e.resume(first.run_id, { force: true })).result;
    expect(third.status).toBe('succeeded');
    const last = spentBy(third, ['b', 'c']);
    expect(third.totals.calls).toBe(second.totals.calls + last.calls);
    expect(third.totals.input_tokens).toBe(second.totals.input_tokens + last.input);
    expect(third.totals.cost_usd).toBeCloseTo(second.totals.cost_usd + last.cost, 6);
    // The run's row says the same as the result its handle gave.
    expect((await e.result(first.run_id)).totals).toEqual(third.totals);
  });

  it('counts them against the budget of the resumed run', async () => {
    const e = engine();
    const { file } = pipelineFile('');
    const first = await failedFirstRun(e, file);

    // a (kept) cost a cent and b2's worst case is a cent: $0.50 is enough for what is left, but
    // the run has spent more than $3 already — b's items were paid, whether or not they are kept.
    writeFileSync(file, pipeline(shortB('b2'), mockC('c2', false)));
    const resumed = await (await e.resume(first.run_id, { force: true, maxCostUsd: 0.5 })).result;
    expect(resumed.status).toBe('failed');
    expect(resumed.failed_step).toBe('b');
    expect(resumed.error).toMatch(
      /budget: step "b" stopped before calling paid\/m1: spent \$3\.\d+ of max_cost_usd \$0\.5/,
    );
    expect(resumed.totals.cost_usd).toBeCloseTo(first.totals.cost_usd, 6);
  });

  it('a forgotten step run again with the same request is answered from the cache for free: its first bill is kept already', async () => {
    const store = new SqliteStore(`${tempDir()}/journal.db`);
    stores.push(store);
    const env = { OPENAI_API_KEY: 'test-key' };
    // The call cache on: a's answer from the first run is there when the forced resume runs a again.
    const e = new Engine({ store, env, providerFactories: { openai: () => new PricedMock('paid') } });
    const { file } = pipelineFile('');
    // x first, then a (which does not read x), then c: a change to x forgets all three.
    const steps = (xPrompt: string, c: string) => `name: paid
providers:
  paid:
    type: openai
    prices: { m1: { input: 10000, output: 0 } }
steps:
  - { name: x, type: llm, provider: paid, model: m1, prompt: "${xPrompt}", max_tokens: 10 }
  - { name: a, type: llm, provider: paid, model: m1, prompt: "a", max_tokens: 10 }
${c}
`;
    writeFileSync(file, steps('x1', mockC('c')));
    const first = await (await e.start(await loadPipeline(file))).result;
    expect(first.failed_step).toBe('c');
    // x changes: x, a and c are forgotten, and run again; a's request is the same as before.
    writeFileSync(file, steps('x2', mockC('c2', false)));
    const second = await (await e.resume(first.run_id, { force: true })).result;
    expect(second.status).toBe('succeeded');
    const a = second.steps.find((s) => s.name === 'a');
    expect(a?.details).toMatchObject({ cache_hits: 1 });
    expect(a?.cost_usd).toBe(0); // its first bill is in what the forced resume kept, not counted twice
    const rerunX = spentBy(second, ['x']);
    expect(second.totals.cost_usd).toBeCloseTo(first.totals.cost_usd + rerunX.cost, 6);
  });
});
