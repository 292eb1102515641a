// `{% increment NAME %}` and `{% decrement NAME %}` write into what Liquid renders with: the run's
// shared scope, before — one step's counter replaced `steps` (or an input) for every later step, and
// the same run then succeeded on resume (that step's template not rendered again). Each Liquid
// render now gets a copy of the scope's top level: templates never write to the run's scope.
import { describe, expect, it } from 'vitest';
import { newEngine, runYaml, step } from './harness.js';

const yaml = `
name: inc
inputs:
  topic: { type: string, default: cats }
steps:
  - name: a
    type: mock
    prompt: "hello {% increment steps %}{% decrement topic %}"
    response: "A"
  - name: b
    type: mock
    prompt: "b reads {{ steps.a.output }} about {{ topic }}"
    response: "B"
outputs:
  b: "{{ steps.b.output }}"
  topic: "{{ topic }}"
`;

describe('templates cannot write into the run scope', () => {
  it('a later step still reads steps.a.output and the input after {% increment steps %}', async () => {
    const result = await runYaml(newEngine(), yaml, { mock: true });
    // Actual: status "failed", step b: undefined variable "steps.a".
    expect(step(result, 'b').error ?? null).toBeNull();
    expect(result.status).toBe('succeeded');
    expect(result.outputs).toEqual({ b: 'B', topic: 'cats' });
  });

  it('the decrement of a top-level input leaks into later templates', async () => {
    const leak = `
name: leak
inputs:
  topic: { type: string, default: cats }
steps:
  - name: a
    type: mock
    prompt: "{% decrement topic %}"
    response: "A"
outputs:
  topic: "{{ topic }}"
`;
    const result = await runYaml(newEngine(), leak, { mock: true });
    // Actual: outputs.topic is -1 (the input "cats" replaced by step a's template).
    expect(result.outputs).toEqual({ topic: 'cats' });
  });
});
