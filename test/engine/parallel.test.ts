import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const pipeline = (group: Record<string, unknown>, subSteps: Record<string, unknown>[]) =>
  JSON.stringify({
    name: 'par',
    steps: [
      { name: 'group', type: 'parallel', ...group, steps: subSteps.map((s) => ({ type: 'mock', ...s })) },
      { name: 'after', type: 'mock', prompt: 'saw {{ steps.group.output | json }}' },
    ],
    outputs: { group: '{{ steps.group.output }}' },
  });

describe('parallel step', () => {
  it('runs its sub-steps at once and outputs a map by sub-step name, each journaled on its own', async () => {
    const file = h.write(
      'p.yaml',
      pipeline({}, [
        { name: 'a', prompt: 'sleep 20 a', response: 'A' },
        { name: 'b', prompt: 'sleep 20 b', response: 'B' },
        { name: 'c', prompt: 'sleep 20 c', response: 'C' },
      ]),
    );
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(result.outputs.group).toEqual({ a: 'A', b: 'B', c: 'C' });
    expect(h.mock.peak).toBe(3);
    const keys = (await h.store.getSteps(result.run_id)).map((s) => s.key).sort();
    expect(keys).toEqual(['a', 'after', 'b', 'c', 'group']);
  });

  it('honours max_parallel', async () => {
    const subs = ['a', 'b', 'c', 'd'].map((n) => ({ name: n, prompt: `sleep 10 ${n}` }));
    const result = await h.run(h.write('p.yaml', pipeline({ max_parallel: 2 }, subs)));
    expect(result.status).toBe('succeeded');
    expect(h.mock.peak).toBe(2);
  });

  it('a failing sub-step cancels its siblings and fails the group', async () => {
    const file = h.write(
      'p.yaml',
      pipeline({}, [
        { name: 'slow', prompt: 'sleep 5000 slow' },
        { name: 'bad', prompt: 'sleep 10 FAIL', retry: { max_attempts: 1 } },
      ]),
    );
    const t0 = Date.now();
    const result = await h.run(file);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(result.status).toBe('failed');
    expect(result.failed_step).toBe('group');
    expect(result.error).toContain('step "bad" failed');
    // The cancelled sibling is neither succeeded nor failed: not in the journal, run again on resume.
    const keys = (await h.store.getSteps(result.run_id)).map((s) => `${s.key}:${s.status}`).sort();
    expect(keys).toEqual(['bad:failed', 'group:failed']);
  });

  it('a sub-step with on_error: continue fails alone and the group goes on', async () => {
    const file = h.write(
      'p.yaml',
      pipeline({}, [
        { name: 'ok', prompt: 'sleep 30 ok', response: 'fine' },
        { name: 'bad', prompt: 'FAIL', on_error: 'continue', retry: { max_attempts: 1 } },
      ]),
    );
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(result.outputs.group).toEqual({ ok: 'fine', bad: null });
  });

  it('a resumed group runs only the sub-steps that did not finish', async () => {
    const file = h.write(
      'p.yaml',
      pipeline({}, [
        { name: 'quick', prompt: 'quick', response: 'Q' },
        // Fails once (fail_first), after `quick` has finished; succeeds on the resume.
        { name: 'flaky', prompt: 'sleep 30 flaky', response: 'F', fail_first: 1, retry: { max_attempts: 1 } },
      ]),
    );
    const first = await h.run(file);
    expect(first.status).toBe('failed');
    const resumed = await (await h.engine.resume(first.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(resumed.outputs.group).toEqual({ quick: 'Q', flaky: 'F' });
    expect(h.mock.prompts.filter((p) => p === 'quick')).toHaveLength(1);
    expect(h.mock.prompts.filter((p) => p === 'sleep 30 flaky')).toHaveLength(2);
  });
});
