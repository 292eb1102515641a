// `resume --force` after the pipeline file changed: what is forgotten (everything journaled from
// the first changed step on, step rows or not) and what the run goes on with (its inputs as the
// changed pipeline reads them).
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** A plan step listing six files, then a batch reviewing them two at a time. */
const reviewPipeline = (plan: string, review: string) =>
  JSON.stringify({
    name: 'stale',
    steps: [
      { name: 'plan', type: 'mock', prompt: 'plan', response: plan },
      {
        name: 'review',
        type: 'batch',
        items: '{{ steps.plan.output | split: "," }}',
        max_parallel: 2,
        step_template: { type: 'mock', prompt: 'sleep 40 review {{ item }}', response: review },
      },
    ],
    outputs: { reviews: '{{ steps.review.output }}' },
  });

/** Starts `file` and stops the run once `n` items of its batch `review` are journaled (no step row yet). */
async function stopInsideBatch(file: string, n: number): Promise<string> {
  const handle = await h.engine.start(await loadPipeline(file), { mock: true });
  while ((await h.store.countItems(handle.runId, 'review')).succeeded < n) await new Promise((r) => setTimeout(r, 5));
  handle.stop('interrupted');
  expect((await handle.result).status).toBe('interrupted');
  expect((await h.store.getSteps(handle.runId)).map((s) => s.key)).toEqual(['plan']);
  return handle.runId;
}

/** A one-step pipeline whose step says `prompt` (and fails when it starts with FAIL), and its inputs. */
const saying = (inputs: Record<string, unknown>, prompt: string) =>
  JSON.stringify({
    name: 'inp',
    inputs,
    steps: [{ name: 'a', type: 'mock', prompt, response: prompt, retry: { max_attempts: 1 } }],
    outputs: { said: '{{ steps.a.output }}' },
  });

describe('resume --force', () => {
  it('re-runs a half-run batch from scratch when the batch step changed', async () => {
    const file = h.write('p.yaml', reviewPipeline('b1,b2,b3,b4,b5,b6', 'old {{ item }}'));
    const runId = await stopInsideBatch(file, 2);

    writeFileSync(file, reviewPipeline('b1,b2,b3,b4,b5,b6', 'new {{ item }}'));
    const resumed = await (await h.engine.resume(runId, { force: true })).result;
    expect(resumed.status).toBe('succeeded');
    // None of the items journaled under the old template is reused.
    expect(resumed.outputs.reviews).toEqual(['new b1', 'new b2', 'new b3', 'new b4', 'new b5', 'new b6']);
  });

  it('re-runs a half-run batch from scratch when an earlier step changed its items', async () => {
    const file = h.write('p.yaml', reviewPipeline('b1,b2,b3,b4,b5,b6', 'reviewed {{ item }}'));
    const runId = await stopInsideBatch(file, 2);
    const before = h.mock.prompts.length;

    writeFileSync(file, reviewPipeline('c1,c2,c3', 'reviewed {{ item }}'));
    const resumed = await (await h.engine.resume(runId, { force: true })).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs.reviews).toEqual(['reviewed c1', 'reviewed c2', 'reviewed c3']);
    expect(h.mock.prompts.slice(before).filter((p) => p.startsWith('sleep'))).toHaveLength(3);
  });

  it('applies the default of an input the changed pipeline added (and of one that gained a default)', async () => {
    const file = h.write('p.yaml', saying({ s: { type: 'string' }, n: { type: 'number' } }, 'FAIL {{ s }}'));
    const first = await h.run(file, { s: 'given' });
    expect(first.status).toBe('failed');

    const changed = { s: { type: 'string' }, n: { type: 'number', default: 1.5 }, k: { type: 'integer', default: 7 } };
    writeFileSync(file, saying(changed, '{{ s }} {{ n }} {{ k }}'));
    const resumed = await (await h.engine.resume(first.run_id, { force: true })).result;
    expect(resumed.status, resumed.error).toBe('succeeded');
    expect(resumed.outputs.said).toBe('given 1.5 7');
    // Kept with the run: a later plain resume of the (now unchanged) pipeline reads the same inputs.
    expect((await h.store.getRun(first.run_id))?.inputs).toEqual({ s: 'given', n: 1.5, k: 7 });
  });

  it('applies the changed default of an input nobody gave, and keeps a given value', async () => {
    const declared = (m: number) => ({ s: { type: 'string', default: 'old' }, m: { type: 'integer', default: m } });
    const file = h.write('p.yaml', saying(declared(1), 'FAIL {{ s }} {{ m }}'));
    const first = await h.run(file, { s: 'given' });
    expect(first.status).toBe('failed');

    // The run took m from its default: the changed default is the run's now — not the old one,
    // which the journal holds beside the given s.
    writeFileSync(file, saying(declared(2), '{{ s }} {{ m }}'));
    const resumed = await (await h.engine.resume(first.run_id, { force: true })).result;
    expect(resumed.status, resumed.error).toBe('succeeded');
    expect(resumed.outputs.said).toBe('given 2');
  });

  it('refuses inputs the changed pipeline cannot take, and leaves the journal as it was', async () => {
    const file = h.write('p.yaml', saying({ s: { type: 'string' } }, 'FAIL {{ s }}'));
    const first = await h.run(file, { s: 'given' });
    writeFileSync(file, saying({ s: { type: 'string' }, r: { type: 'string', required: true } }, '{{ s }} {{ r }}'));
    await expect(h.engine.resume(first.run_id, { force: true })).rejects.toThrow(/missing required input "r"/);
    const run = await h.store.getRun(first.run_id);
    expect(run?.status).toBe('failed');
    expect(run?.inputs).toEqual({ s: 'given' });
    expect((await h.store.getSteps(first.run_id)).map((s) => s.key)).toEqual(['a']);
  });
});
