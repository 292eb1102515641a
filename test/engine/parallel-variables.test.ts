// Variables set inside a `parallel` group take effect at the group's end, in declaration order:
// siblings never see each other's, whatever the timing, and a resume sees what the first attempt saw.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const write = (doc: Record<string, unknown>) => h.write('p.yaml', JSON.stringify({ name: 'vars', ...doc }));

describe('set_variable inside a parallel group', () => {
  it('is not seen by a sibling that starts after it finished', async () => {
    const file = write({
      variables: { x: 'root' },
      steps: [
        {
          name: 'group',
          type: 'parallel',
          max_parallel: 1, // the setter finishes before the reader starts
          steps: [
            { name: 'setx', type: 'set_variable', variables: { x: 'set-in-group' } },
            { name: 'reader', type: 'mock', prompt: 'reader saw {{ x }}' },
          ],
        },
        { name: 'after', type: 'mock', prompt: 'after saw {{ x }}' },
      ],
    });
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(['reader saw root', 'after saw set-in-group']);
  });

  it('applies siblings that set one variable in declaration order, not in the order they finish', async () => {
    const file = write({
      variables: { x: 'root' },
      steps: [
        {
          name: 'group',
          type: 'parallel',
          steps: [
            {
              name: 'inner',
              type: 'parallel',
              max_parallel: 1,
              steps: [
                { name: 'slow', type: 'mock', prompt: 'sleep 40 slow' },
                { name: 'first', type: 'set_variable', variables: { x: 'first' } }, // finishes last
              ],
            },
            { name: 'second', type: 'set_variable', variables: { x: 'second' } }, // finishes first
          ],
        },
        { name: 'after', type: 'mock', prompt: 'after saw {{ x }}' },
      ],
      outputs: { x: '{{ x }}' },
    });
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(result.outputs.x).toBe('second');
    expect(h.mock.prompts.at(-1)).toBe('after saw second');
  });

  it('a resumed group shows its sub-steps the variables the first attempt showed them', async () => {
    const file = write({
      variables: { x: 'root' },
      steps: [
        {
          name: 'group',
          type: 'parallel',
          max_parallel: 1,
          steps: [
            { name: 'setx', type: 'set_variable', variables: { x: 'set-in-group' } },
            // Fails once: the resume runs it again, with setx taken from the journal.
            { name: 'reader', type: 'mock', prompt: 'reader saw {{ x }}', fail_first: 1, retry: { max_attempts: 1 } },
          ],
        },
      ],
      outputs: { x: '{{ x }}' },
    });
    const failed = await h.run(file);
    expect(failed.status).toBe('failed');
    const resumed = await (await h.engine.resume(failed.run_id)).result;
    expect(resumed.status).toBe('succeeded');
    expect(h.mock.prompts).toEqual(['reader saw root', 'reader saw root']);
    expect(resumed.outputs.x).toBe('set-in-group');
  });
});
