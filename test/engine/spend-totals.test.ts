// What a run's totals count: the attempts and retries of a step that failed, and every journaled
// item of a batch exactly once — finished, timed out, resumed or killed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { journalKilledBatch } from '../journal/killed-batch.js';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const things = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`);

const batchPipeline = (options: Record<string, unknown>, template: Record<string, unknown>) =>
  JSON.stringify({
    name: 'fan',
    defaults: { cache: false },
    inputs: { things: { type: 'array', default: [] } },
    steps: [
      { name: 'each', type: 'batch', items: '{{ things }}', ...options, step_template: { type: 'mock', ...template } },
    ],
  });

/** What the journal's items of `each` say they spent. */
async function itemSpend(runId: string): Promise<{ items: number; input: number; output: number }> {
  const items = await h.store.getItems(runId, 'each');
  return {
    items: items.length,
    input: items.reduce((n, i) => n + i.usage.inputTokens, 0),
    output: items.reduce((n, i) => n + i.usage.outputTokens, 0),
  };
}

describe('a failed step', () => {
  it('records the attempts its call made, and its retries count in the run totals', async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'att',
        defaults: { cache: false },
        steps: [
          { name: 'ok', type: 'mock', prompt: 'ok', fail_first: 2, retry: { max_attempts: 3, base_delay: '1ms' } },
          {
            name: 'a',
            type: 'mock',
            prompt: 'a',
            fail_first: 5,
            retry: { max_attempts: 2, base_delay: '1ms' },
            on_error: 'continue',
          },
        ],
      }),
    );
    const result = await h.run(file);
    const a = result.steps.find((s) => s.name === 'a');
    expect(a?.status).toBe('failed');
    expect(a?.error).toMatch(/mock failure 2 of 5/);
    expect(a?.attempts).toBe(2);
    expect(a?.details).toMatchObject({ calls: 1, retries: 1 });
    // ok: 2 retries; a: 1.
    expect(result.totals.retries).toBe(3);
    expect(result.totals.calls).toBe(2);
  });
});

describe('batch spend in the run totals', () => {
  it('a resumed batch counts the calls of the items an earlier attempt journaled', async () => {
    const file = h.write('p.yaml', batchPipeline({ max_parallel: 2 }, { prompt: 'sleep 20 {{ item }}' }));
    const handle = await h.engine.start(await loadPipeline(file), { mock: true, inputs: { things: things(12) } });
    while ((await h.store.countItems(handle.runId, 'each')).succeeded < 4) await new Promise((r) => setTimeout(r, 5));
    handle.stop('interrupted');
    const stopped = await handle.result;
    expect(stopped.status).toBe('interrupted');
    const before = await itemSpend(handle.runId);
    // The interrupted run has no row for the batch: its journaled items are its calls.
    expect(stopped.totals.calls).toBe(before.items);
    expect(stopped.totals.input_tokens).toBe(before.input);

    const resumed = await (await h.engine.resume(handle.runId)).result;
    expect(resumed.status).toBe('succeeded');
    const after = await itemSpend(handle.runId);
    expect(after.items).toBe(12);
    // One call per item, each counted once: the earlier attempt's and this one's.
    expect(resumed.totals.calls).toBe(12);
    expect(resumed.totals.input_tokens).toBe(after.input);
    expect(resumed.totals.output_tokens).toBe(after.output);
    expect((await h.engine.result(handle.runId)).totals.calls).toBe(12);
  });

  it('a batch that timed out counts every item it journaled', async () => {
    const file = h.write(
      'p.yaml',
      batchPipeline({ max_parallel: 2, timeout: '250ms' }, { prompt: 'sleep 100 {{ item }}' }),
    );
    const result = await h.run(file, { things: things(6) });
    expect(result.status).toBe('failed');
    const spent = await itemSpend(result.run_id);
    expect(spent.items).toBeGreaterThan(0);
    expect(result.steps.find((s) => s.name === 'each')?.details).toMatchObject({ items_run: spent.items });
    // Every journaled item's call, and the calls the timeout cut off (never journaled) besides.
    expect(result.totals.calls).toBeGreaterThanOrEqual(spent.items);
    expect(result.totals.calls).toBeLessThanOrEqual(spent.items + 2);
    expect(result.totals.input_tokens).toBe(spent.input);
    expect(result.totals.output_tokens).toBe(spent.output);
  });

  it("a killed run's result counts its half-done batch's items (GET /runs/:id)", async () => {
    const runId = 'killed-run';
    await journalKilledBatch(h.store, runId, 4);
    const result = await h.engine.result(runId);
    expect(result.totals).toMatchObject({ calls: 4, input_tokens: 40, output_tokens: 20, cost_usd: 1 });
  });
});

/**
 * A model that answers 100 input and 10 output tokens per call, with a structured answer that is
 * invalid (`severity: urgent`) for its first `bad` calls and valid afterwards.
 */
class PaidFlakyModel extends MockProvider {
  answered = 0;
  constructor(private readonly bad: number) {
    super();
  }
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const response = await super.generate(request, signal);
    const object = { severity: this.answered++ < this.bad ? 'urgent' : 'low' };
    return { ...response, object, text: JSON.stringify(object), usage: { inputTokens: 100, outputTokens: 10 } };
  }
}

const triage = `type: mock
    prompt: "Classify {{ item }}"
    schema: { type: object, required: [severity], properties: { severity: { type: string, enum: [low, high] } } }
    max_repairs: 1`;

describe('what failed attempts paid for, across resumes', () => {
  function engineWith(model: PaidFlakyModel): Engine {
    return new Engine({ store: h.store, env: {}, cache: false, providerFactories: { mock: () => model } });
  }

  it('a batch item that failed is billed once for each call it made, its fallback’s too', async () => {
    const model = new PaidFlakyModel(100);
    const file = h.write(
      'p.yaml',
      `name: billed\nsteps:\n  - name: each\n    type: batch\n    items: [a, b]\n    on_item_error: continue\n    step_template:\n      ${triage.replaceAll('\n    ', '\n      ')}\n      fallback: { prompt: "Again {{ item }}" }\n`,
    );
    const result = await (await engineWith(model).start(await loadPipeline(file), { mock: true })).result;
    expect(result.status).toBe('succeeded');
    // Two items × (an answer and a repair, then the fallback's answer and repair): 8 calls.
    expect(model.answered).toBe(8);
    const items = await h.store.getItems(result.run_id, 'each');
    expect(items.map((i) => i.usage.inputTokens)).toEqual([400, 400]);
    expect(result.totals).toMatchObject({ calls: 8, input_tokens: 800, output_tokens: 80 });
  });

  it.each([
    ['a step', () => `name: billed\nsteps:\n  - name: triage\n    ${triage.replace('{{ item }}', 'x')}\n`],
    [
      'a batch item',
      () =>
        `name: billed\nsteps:\n  - name: each\n    type: batch\n    items: [a]\n    step_template:\n      ${triage.replaceAll('\n    ', '\n      ')}\n`,
    ],
  ])('%s that failed after paid calls and succeeds on resume keeps both bills', async (_what, yaml) => {
    const model = new PaidFlakyModel(2);
    const engine = engineWith(model);
    const file = h.write('p.yaml', yaml());
    const failed = await (await engine.start(await loadPipeline(file), { mock: true })).result;
    expect(failed.status).toBe('failed');
    expect(failed.totals).toMatchObject({ calls: 2, input_tokens: 200 });
    const resumed = await (await engine.resume(failed.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(model.answered).toBe(3);
    expect(resumed.totals).toMatchObject({ calls: 3, input_tokens: 300, output_tokens: 30 });
    expect((await engine.result(failed.run_id)).totals).toMatchObject({ calls: 3, input_tokens: 300 });
  });
});
