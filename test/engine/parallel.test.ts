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

/** A group that goes on after a sub-step failed, its slow sibling cancelled. */
const CONTINUED_GROUP = {
  name: 'group',
  type: 'parallel',
  on_error: 'continue',
  steps: [
    { name: 'slow', type: 'mock', prompt: 'sleep 5000 slow' },
    { name: 'bad', type: 'mock', prompt: 'FAIL', retry: { max_attempts: 1 } },
  ],
};

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

  it('a group skipped by its `when` shows its sub-steps, nested ones too, as skipped with output null; on resume too', async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'pskip',
        steps: [
          {
            name: 'group',
            type: 'parallel',
            when: 'false',
            steps: [
              { name: 'security', type: 'mock', prompt: 'sec' },
              { name: 'inner', type: 'parallel', steps: [{ name: 'deep', type: 'mock', prompt: 'deep' }] },
            ],
          },
          { name: 'merge', type: 'mock', prompt: 'm', response: 'security said [{{ steps.security.output }}]' },
          // Fails once, after `merge`: the resume rebuilds the scope from the journal.
          { name: 'flaky', type: 'mock', prompt: 'flaky', fail_first: 1, retry: { max_attempts: 1 } },
        ],
        outputs: {
          merge: '{{ steps.merge.output }}',
          statuses: '{{ steps.security.status }} {{ steps.inner.status }} {{ steps.deep.status }}',
          deep: '[{{ steps.deep.output }}]',
        },
      }),
    );
    const first = await h.run(file);
    expect(first.failed_step, first.error).toBe('flaky');
    expect(first.steps.find((s) => s.name === 'merge')?.output).toBe('security said []');
    const rows = (await h.store.getSteps(first.run_id)).map((s) => `${s.key}:${s.status}`);
    expect(rows.slice(0, 4)).toEqual(['security:skipped', 'deep:skipped', 'inner:skipped', 'group:skipped']);

    const resumed = await (await h.engine.resume(first.run_id)).result;
    expect(resumed.status, resumed.error).toBe('succeeded');
    expect(resumed.outputs).toEqual({ merge: 'security said []', statuses: 'skipped skipped skipped', deep: '[]' });
    expect(h.mock.prompts.filter((p) => ['sec', 'deep', 'm'].includes(p))).toEqual(['m']);
  });

  it('a group that fails under on_error: continue shows its cancelled sub-steps as failed with output null; on resume too', async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'parc',
        steps: [
          CONTINUED_GROUP,
          {
            name: 'after',
            type: 'mock',
            prompt: 'after',
            response: 'slow={{ steps.slow.output }} {{ steps.slow.status }}, bad={{ steps.bad.status }}',
          },
          { name: 'flaky', type: 'mock', prompt: 'flaky', fail_first: 1, retry: { max_attempts: 1 } },
        ],
        outputs: { after: '{{ steps.after.output }}', bad: '{{ steps.bad.status }}', slow: '{{ steps.slow.error }}' },
      }),
    );
    const t0 = Date.now();
    const first = await h.run(file);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(first.failed_step, first.error).toBe('flaky');
    const slow = first.steps.find((s) => s.name === 'slow');
    expect(slow).toMatchObject({ status: 'failed', output: null, details: { continued: true, cancelled: true } });
    expect(slow?.error).toBe('cancelled: parallel group "group" failed');
    expect(first.steps.find((s) => s.name === 'after')?.output).toBe('slow= failed, bad=failed');

    const resumed = await (await h.engine.resume(first.run_id)).result;
    expect(resumed.status, resumed.error).toBe('succeeded');
    expect(resumed.outputs).toEqual({
      after: 'slow= failed, bad=failed',
      bad: 'failed',
      slow: 'cancelled: parallel group "group" failed',
    });
    // The group is finished: neither sub-step runs again.
    expect(h.mock.prompts.filter((p) => p === 'sleep 5000 slow' || p === 'FAIL')).toHaveLength(2);
  });

  it('a resume settles the sub-steps of a finished group whose journal lacks them', async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'legacy',
        steps: [
          CONTINUED_GROUP,
          { name: 'flaky', type: 'mock', prompt: 'flaky', fail_first: 1, retry: { max_attempts: 1 } },
        ],
        outputs: { slow: '{{ steps.slow.status }}', bad: '{{ steps.bad.status }}' },
      }),
    );
    const first = await h.run(file);
    expect(first.failed_step, first.error).toBe('flaky');
    // As a journal written before cancelled sub-steps were journaled has it.
    await h.store.deleteSteps(first.run_id, ['slow']);

    const resumed = await (await h.engine.resume(first.run_id)).result;
    expect(resumed.status, resumed.error).toBe('succeeded');
    expect(resumed.outputs).toEqual({ slow: 'failed', bad: 'failed' });
    expect((await h.store.getSteps(first.run_id)).find((s) => s.key === 'slow')?.details).toMatchObject({
      cancelled: true,
    });
  });

  it('a group whose `when` cannot be evaluated, under on_error: continue, shows its sub-steps too', async () => {
    const file = h.write(
      'p.yaml',
      JSON.stringify({
        name: 'pwhen',
        steps: [
          { name: 'a', type: 'mock', prompt: 'a', response: 'plain' },
          {
            name: 'group',
            type: 'parallel',
            when: "{{ steps.a.output.verdict == 'x' }}",
            on_error: 'continue',
            steps: [{ name: 'sub', type: 'mock', prompt: 'sub' }],
          },
        ],
        outputs: { group: '{{ steps.group.status }}', sub: '{{ steps.sub.status }}[{{ steps.sub.output }}]' },
      }),
    );
    const result = await h.run(file);
    expect(result.status, result.error).toBe('succeeded');
    expect(result.outputs).toEqual({ group: 'failed', sub: 'failed[]' });
    expect(h.mock.prompts).not.toContain('sub');
  });
});
