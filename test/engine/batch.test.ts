import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { assembleBatch } from '../../src/engine/steps/batch-journal.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { ItemCounts } from '../../src/journal/store.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { CountingMock, createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** A pipeline mapping a mock call over the input `things`. */
const batchPipeline = (options: Record<string, unknown>, template: Record<string, unknown>) =>
  JSON.stringify({
    name: 'fan',
    inputs: { things: { type: 'array', default: [] }, word: { type: 'string', default: 'hello' } },
    steps: [
      { name: 'each', type: 'batch', items: '{{ things }}', ...options, step_template: { type: 'mock', ...template } },
    ],
    outputs: { all: '{{ steps.each.output }}' },
  });

const things = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`);

describe('batch step', () => {
  it('returns the item outputs in item order, though later items finish first', async () => {
    const file = h.write(
      'p.yaml',
      batchPipeline(
        { max_parallel: 6 },
        { prompt: 'sleep {{ 30 | minus: index | times: 2 }} {{ item }}', response: 'out {{ item }}' },
      ),
    );
    const result = await h.run(file, { things: things(6) });
    expect(result.status).toBe('succeeded');
    // The first prompt to finish was the last item's.
    expect(h.mock.prompts).toHaveLength(6);
    expect(result.outputs.all).toEqual(things(6).map((x) => `out ${x}`));
    const step = result.steps.find((s) => s.name === 'each');
    expect(step?.details).toMatchObject({ items: 6, succeeded: 6, failed: 0, calls: 6, from_journal: 0 });
    expect(await h.store.countItems(result.run_id, 'each')).toEqual({ succeeded: 6, failed: 0, stopped: 0 });
  });

  it('runs at most max_parallel items at once', async () => {
    const file = h.write('p.yaml', batchPipeline({ max_parallel: 3 }, { prompt: 'sleep 10 {{ item }}' }));
    const result = await h.run(file, { things: things(12) });
    expect(result.status).toBe('succeeded');
    expect(h.mock.peak).toBe(3);
  });

  it('runs the items of one batch one after another, max_parallel batches at once', async () => {
    // 12 items in batches of 4: three batches, so at most three calls at once even with max_parallel 10.
    const file = h.write(
      'p.yaml',
      batchPipeline({ batch_size: 4, max_parallel: 10 }, { prompt: 'sleep 5 {{ index }}' }),
    );
    expect((await h.run(file, { things: things(12) })).status).toBe('succeeded');
    expect(h.mock.peak).toBe(3);
    // With one batch at a time the items run strictly in order.
    const serial = h.write('s.yaml', batchPipeline({ batch_size: 4, max_parallel: 1 }, { prompt: 'n {{ index }}' }));
    h.mock.prompts.length = 0;
    expect((await h.run(serial, { things: things(8) })).status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(things(8).map((_, i) => `n ${i}`));
  });

  it('on_item_error: continue records each failed item and completes with null in its place', async () => {
    const file = h.write(
      'p.yaml',
      batchPipeline(
        { on_item_error: 'continue', max_parallel: 2 },
        { prompt: '{{ item }}', retry: { max_attempts: 1 } },
      ),
    );
    const result = await h.run(file, { things: ['a', 'FAIL-b', 'c', 'FAIL-d'] });
    expect(result.status).toBe('succeeded');
    const all = result.outputs.all as unknown[];
    expect(all[1]).toBeNull();
    expect(all[3]).toBeNull();
    expect(all[0]).toEqual(expect.stringContaining('a'));
    const step = result.steps.find((s) => s.name === 'each');
    expect(step?.details).toMatchObject({ succeeded: 2, failed: 2 });
    const items = await h.store.getItems(result.run_id, 'each');
    expect(items.filter((i) => i.status === 'failed').map((i) => [i.index, i.error])).toEqual([
      [1, expect.stringContaining('refused: FAIL-b')],
      [3, expect.stringContaining('refused: FAIL-d')],
    ]);
  });

  it('a batch run from scratch assembles, as its items finish, the output and totals the journal holds', async () => {
    const file = h.write(
      'p.yaml',
      batchPipeline(
        { on_item_error: 'continue', max_parallel: 6 }, // later items finish first, failures too
        { prompt: 'sleep {{ 12 | minus: index | times: 2 }} {{ item }}', retry: { max_attempts: 1 } },
      ),
    );
    const result = await h.run(file, { things: ['a', 'FAIL-b', 'c', 'd', 'FAIL-e', 'f'] });
    expect(result.status).toBe('succeeded');
    const step = result.steps.find((s) => s.name === 'each');
    // What the step said (assembled in memory) is what the journal's items say (read back).
    const journal = await assembleBatch(h.store, result.run_id, 'each', 6);
    expect(result.outputs.all).toEqual(journal.output);
    expect(step?.output).toEqual(journal.output);
    expect(step?.usage).toEqual({ input_tokens: journal.usage.inputTokens, output_tokens: journal.usage.outputTokens });
    expect(step?.details).toMatchObject({ succeeded: journal.succeeded, failed: journal.failed, calls: journal.calls });
    expect(step?.details?.errors).toEqual(journal.errors);
    expect(journal.output.filter((o) => o === null)).toHaveLength(2);
  });

  it('on_item_error: fail stops launching items, cancels the ones in flight and fails the step', async () => {
    // Item 0 fails at once; items 1..3 are in flight for 5 s and must be cancelled, items 4.. never start.
    const file = h.write(
      'p.yaml',
      batchPipeline(
        { max_parallel: 4 },
        { prompt: '{% if index == 0 %}FAIL{% else %}sleep 5000{% endif %} {{ item }}', retry: { max_attempts: 1 } },
      ),
    );
    const t0 = Date.now();
    const result = await h.run(file, { things: things(20) });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(result.status).toBe('failed');
    expect(result.failed_step).toBe('each');
    expect(result.error).toMatch(/item 0 of 20 failed: .*refused/);
    expect(h.mock.prompts).toHaveLength(4);
    // The cancelled items are not journaled: a resume runs them.
    expect(await h.store.countItems(result.run_id, 'each')).toEqual({ succeeded: 0, failed: 1, stopped: 0 });
  });

  it('fails with a clear error when items is not a list', async () => {
    const file = h.write('p.yaml', batchPipeline({ items: '{{ word }}' }, { prompt: '{{ item }}' }));
    const result = await h.run(file);
    expect(result.status).toBe('failed');
    expect(result.error).toContain('batch step "each": `items` must be a list');
    expect(result.error).toContain('the string "hello"');
  });

  it('an empty list gives an empty output', async () => {
    const file = h.write('p.yaml', batchPipeline({}, { prompt: '{{ item }}' }));
    const result = await h.run(file, { things: [] });
    expect(result.status).toBe('succeeded');
    expect(result.outputs.all).toEqual([]);
  });

  it('a resumed batch runs only the items the journal does not have as succeeded', async () => {
    const file = h.write('p.yaml', batchPipeline({ max_parallel: 4 }, { prompt: 'sleep 20 {{ item }}' }));
    const { loadPipeline } = await import('../../src/config/loader.js');
    const handle = await h.engine.start(await loadPipeline(file), { mock: true, inputs: { things: things(40) } });
    // Stop once some items are journaled.
    while ((await h.store.countItems(handle.runId, 'each')).succeeded < 10) await new Promise((r) => setTimeout(r, 5));
    handle.stop('interrupted');
    const stopped = await handle.result;
    expect(stopped.status).toBe('interrupted');
    const journaled = (await h.store.getItems(handle.runId, 'each')).map((i) => i.index);
    const firstPrompts = [...h.mock.prompts];

    const resumed = await (await h.engine.resume(handle.runId)).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs.all).toHaveLength(40);
    const secondPrompts = h.mock.prompts.slice(firstPrompts.length);
    // Nothing journaled ran again; everything else ran in the second attempt.
    for (const index of journaled) expect(secondPrompts).not.toContain(`sleep 20 x${index}`);
    expect(secondPrompts).toHaveLength(40 - journaled.length);
    expect(resumed.steps.find((s) => s.name === 'each')?.details).toMatchObject({ from_journal: journaled.length });
  });

  it('a batch stopped while it reads its journaled items runs none of them', async () => {
    // The journal answers slowly (a PostgreSQL round-trip under load): the step's timeout fires while
    // the batch waits for it, and the batch must still see the stop once the answer comes.
    class SlowCountStore extends SqliteStore {
      override async countItems(runId: string, stepKey: string): Promise<ItemCounts> {
        await sleep(300);
        return super.countItems(runId, stepKey);
      }
    }
    const store = new SlowCountStore(join(h.dir, 'slow.db'));
    const mock = new CountingMock();
    const engine = new Engine({
      store,
      cache: false,
      gates: new GateRegistry(undefined, { mock: { max_concurrency: 100 } }),
      providerFactories: { mock: () => mock },
    });
    try {
      const file = h.write('p.yaml', batchPipeline({ max_parallel: 1, timeout: '20ms' }, { prompt: '{{ item }}' }));
      const handle = await engine.start(await loadPipeline(file), { mock: true, inputs: { things: things(8) } });
      const result = await handle.result;
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/timed out after 20 ms/);
      // Items answer at once: had the batch missed the stop, all 8 would have run within the grace
      // the step is given to wind down (and been journaled behind the failed step's back).
      expect(mock.prompts).toHaveLength(0);
      expect(await store.countItems(handle.runId, 'each')).toEqual({ succeeded: 0, failed: 0, stopped: 0 });
    } finally {
      await engine.drain();
      await store.close();
    }
  });

  it('reports progress as done/failed/total, throttled, ending with the final count', async () => {
    const file = h.write(
      'p.yaml',
      batchPipeline(
        { max_parallel: 4, on_item_error: 'continue' },
        { prompt: '{{ item }}', retry: { max_attempts: 1 } },
      ),
    );
    const events: { done: number; failed: number; total: number }[] = [];
    h.engine.bus.on('pipeline.step.progress', (data) => events.push(data));
    const result = await h.run(file, { things: [...things(300), 'FAIL'] });
    expect(result.status).toBe('succeeded');
    // 301 items finishing within milliseconds: a start event, a final one, nothing like one per item.
    expect(events.length).toBeLessThan(10);
    expect(events[0]).toMatchObject({ done: 0, failed: 0, total: 301 });
    expect(events.at(-1)).toMatchObject({ done: 301, failed: 1, total: 301 });
  });
});
