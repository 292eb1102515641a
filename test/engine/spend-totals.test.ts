// What a run's totals count: the attempts and retries of a step that failed, and every journaled
// item of a batch exactly once — finished, timed out, resumed or killed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
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
