// A step stopped from outside — the run interrupted, or a parallel sibling failing — after some of
// its calls were paid for: the bill stays in the run's totals, and a resume adds to it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import { createHarness, type Harness } from './batch-harness.js';
import { PaidModel } from './paid-model.js';

// Answers that never validate: the step keeps paying for repairs until it is stopped.
const repairing = {
  type: 'mock',
  prompt: 'give me a number',
  schema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
  response: { n: 'not a number' },
  latency: '60ms',
  max_repairs: 10,
};

let h: Harness;
let model: PaidModel;
let engine: Engine;
beforeEach(() => {
  h = createHarness();
  model = new PaidModel();
  engine = new Engine({ store: h.store, env: {}, cache: false, providerFactories: { mock: () => model } });
});
afterEach(async () => {
  await h.cleanup();
});

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
};

/** Holds the failing sibling's call (prompt `x`) until `slow` has paid twice: no race with the clock. */
class SiblingFailsAfterTwoPaid extends PaidModel {
  override async generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    if (request.messages[0]?.content === 'x') await until(() => this.paid >= 2);
    return super.generate(request, signal);
  }
}

describe('a step stopped after paid calls', () => {
  it('cancelled by a failing sibling, keeps their bill in the totals', async () => {
    model = new SiblingFailsAfterTwoPaid();
    engine = new Engine({ store: h.store, env: {}, cache: false, providerFactories: { mock: () => model } });
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'par',
        steps: [
          {
            name: 'group',
            type: 'parallel',
            steps: [
              { name: 'slow', ...repairing },
              { name: 'boom', type: 'mock', prompt: 'x', fail_first: 1, retry: { max_attempts: 1 } },
            ],
          },
        ],
      }),
    );
    const result = await (await engine.start(await loadPipeline(file), { mock: true })).result;
    expect(result.status).toBe('failed');
    expect(model.paid).toBeGreaterThan(1);
    expect(result.totals.cost_usd).toBeCloseTo(model.paid * 0.01, 6);
    const slow = result.steps.find((s) => s.key === 'slow');
    expect(slow).toMatchObject({ status: 'failed', cost_usd: expect.closeTo(model.paid * 0.01, 6) });
  });

  it("stopped by its parallel group's own timeout, its bill counts once (not again on the group's row)", async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'par-timeout',
        steps: [{ name: 'group', type: 'parallel', timeout: '400ms', steps: [{ name: 'slow', ...repairing }] }],
      }),
    );
    const result = await (await engine.start(await loadPipeline(file), { mock: true })).result;
    expect(result.status).toBe('failed');
    expect(model.paid).toBeGreaterThan(0);
    expect(result.steps.find((s) => s.key === 'slow')).toMatchObject({
      cost_usd: expect.closeTo(model.paid * 0.01, 6),
    });
    expect(result.totals.cost_usd).toBeCloseTo(model.paid * 0.01, 6);
  });

  it("stopped by its pipeline step's own timeout, its bill counts once (not again on the pipeline step's row)", async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'nested-timeout',
        steps: [
          {
            name: 'child',
            type: 'pipeline',
            timeout: '400ms',
            pipeline: { name: 'inner', steps: [{ name: 'slow', ...repairing }] },
          },
        ],
      }),
    );
    const result = await (await engine.start(await loadPipeline(file), { mock: true })).result;
    expect(result.status).toBe('failed');
    expect(model.paid).toBeGreaterThan(0);
    expect(result.totals.cost_usd).toBeCloseTo(model.paid * 0.01, 6);
  });

  it('interrupted, keeps their bill, and its resumed run adds the new calls to it', async () => {
    const file = h.write('p.yaml', JSON.stringify({ name: 'int', steps: [{ name: 'slow', ...repairing }] }));
    const handle = await engine.start(await loadPipeline(file), { mock: true });
    await until(() => model.paid >= 2);
    engine.stop(handle.runId, 'interrupted');
    const first = await handle.result;
    expect(first.status).toBe('interrupted');
    const paidBefore = model.paid;
    expect(first.totals.cost_usd).toBeCloseTo(paidBefore * 0.01, 6);

    // The resume runs the step again (it never finished) and stops it again: both bills count.
    const resumed = await engine.resume(first.run_id);
    await until(() => model.paid >= paidBefore + 2);
    engine.stop(first.run_id, 'interrupted');
    const second = await resumed.result;
    expect(second.status).toBe('interrupted');
    expect(second.totals.cost_usd).toBeCloseTo(model.paid * 0.01, 6);
  });

  it('stopped before any call was answered, leaves no record: a resume runs it as new', async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({ name: 'quiet', steps: [{ name: 'wait', type: 'mock', prompt: 'x', latency: '5s' }] }),
    );
    const handle = await engine.start(await loadPipeline(file), { mock: true });
    await new Promise((resolve) => setTimeout(resolve, 30));
    engine.stop(handle.runId, 'interrupted');
    const result = await handle.result;
    expect(result.status).toBe('interrupted');
    expect(await h.store.getSteps(result.run_id)).toEqual([]);
  });
});
