// Step names are identifiers, and `__proto__` and `constructor` are identifiers. A step named
// `__proto__` ran fine, but `{{ steps.__proto__.output }}` failed with "undefined variable": the
// step's view was assigned to `steps['__proto__']`, which replaced the object's prototype instead
// of adding a step. Step views are own properties whatever the name.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const write = (doc: Record<string, unknown>) => h.write('p.yaml', JSON.stringify({ name: 'proto', ...doc }));

describe('steps named like properties of Object.prototype', () => {
  it('__proto__ and constructor are read like any step, by the fast path and by Liquid', async () => {
    const file = write({
      steps: [
        { name: '__proto__', type: 'mock', prompt: 'a', response: 'A' },
        { name: 'constructor', type: 'mock', prompt: 'b', response: 'B' },
        {
          name: 'use',
          type: 'mock',
          prompt: 'x',
          // The first two take the fast path; the `{% if %}` needs Liquid itself.
          response:
            '{{ steps.__proto__.output }}|{{ steps.constructor.output }}|{% if steps.__proto__.status == "succeeded" %}{{ steps.__proto__.output | downcase }}{% endif %}',
        },
      ],
      outputs: { use: '{{ steps.use.output }}', proto: '{{ steps.__proto__.output }}', names: '{{ steps | json }}' },
    });
    const result = await h.run(file);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('succeeded');
    expect(result.outputs.use).toBe('A|B|a');
    expect(result.outputs.proto).toBe('A');
    expect(Object.keys(JSON.parse(result.outputs.names as string))).toEqual(['__proto__', 'constructor', 'use']);
  });

  it('a step named __proto__ inside a parallel group and in a child pipeline', async () => {
    const file = write({
      steps: [
        { name: 'group', type: 'parallel', steps: [{ name: '__proto__', type: 'mock', prompt: 'a', response: 'A' }] },
        {
          name: 'child',
          type: 'pipeline',
          pipeline: {
            name: 'inner',
            steps: [{ name: '__proto__', type: 'mock', prompt: 'c', response: 'C' }],
            outputs: { text: '{{ steps.__proto__.output }}' },
          },
        },
      ],
      outputs: { group: '{{ steps.__proto__.output }}', child: '{{ steps.child.output.text }}' },
    });
    const result = await h.run(file);
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ group: 'A', child: 'C' });
  });
});
