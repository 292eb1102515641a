// engine.stopAll() (Ctrl-C, SIGTERM) stopped only the runs already active. A run whose start or
// resume was under way — awaiting the journal's createRun or claimRun — was missed, and then ran to
// its end. Such a run is now stopped as soon as it is supervised: interrupted, nothing run, resumable.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const yaml = JSON.stringify({
  name: 'paid',
  steps: [
    { name: 'one', type: 'mock', prompt: 'one' },
    { name: 'two', type: 'mock', prompt: 'two' },
  ],
});

/** Calls `engine.stopAll()` from inside the journal's `method`, once: the run is being started. */
function stopAllDuring(engine: Engine, method: 'createRun' | 'claimRun'): void {
  const store = h.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = store[method]?.bind(h.store) as (...args: unknown[]) => Promise<unknown>;
  store[method] = async (...args: unknown[]) => {
    store[method] = original;
    engine.stopAll('interrupted');
    return original(...args);
  };
}

describe('stopAll while a run is being started', () => {
  it('stops a run whose start is under way: interrupted before any step, then resumable', async () => {
    const file = h.write('p.yaml', yaml);
    stopAllDuring(h.engine, 'createRun');
    const stopped = await h.run(file);
    expect(stopped.status).toBe('interrupted');
    expect(stopped.steps).toEqual([]);
    expect(h.mock.prompts).toEqual([]);

    const resumed = await (await h.engine.resume(stopped.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(['one', 'two']);
  });

  it('stops a run whose resume is under way', async () => {
    const file = h.write('p.yaml', yaml);
    stopAllDuring(h.engine, 'createRun');
    const first = await h.run(file);
    stopAllDuring(h.engine, 'claimRun');
    const again = await (await h.engine.resume(first.run_id)).result;
    expect(again.status).toBe('interrupted');
    expect(h.mock.prompts).toEqual([]);
  });

  it('leaves the starts that come after it, and after a refused start, alone', async () => {
    const file = h.write('p.yaml', yaml);
    h.engine.stopAll('interrupted'); // nothing active, nothing being started
    await expect(h.run(file, { nope: 1 })).rejects.toThrow(/unknown input "nope"/);
    expect((await h.run(file)).status).toBe('succeeded');
  });
});
