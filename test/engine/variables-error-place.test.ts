// A `variables:` value (the pipeline's own, or a `set_variable` step's) whose template fails at run
// time — a field an object input lacks, a filter given a bad argument — is reported at its place in
// the pipeline file, file:line:col, the key path and the hint, as a failing `outputs:` template is.
// Before, the run's error said only `variables: …` or `step "set" failed: …` and the template text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './batch-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const UNDEFINED_HINT = "  hint: the name is not in this template's scope; use `| default: …`";

describe("a pipeline's variables failing at run time", () => {
  it('names file:line:col of the failing name, the key path and the hint — in the result and the journal', async () => {
    const file = h.write(
      'vars.yaml',
      [
        'name: vars',
        'inputs:',
        '  doc: { type: object, required: true }',
        'variables:',
        '  lang: en',
        '  title: "Title: {{ inputs.doc.title }}"',
        'steps:',
        '  - { name: s, type: mock, prompt: "{{ title }}" }',
        '',
      ].join('\n'),
    );
    const result = await h.run(file, { doc: { body: 'no title' } });
    expect(result.status).toBe('failed');
    // Line 6; `inputs.doc.title` starts at column 21 (after `  title: "Title: {{ `).
    expect(result.error).toContain(
      `${file}:6:21: undefined variable "inputs.doc.title" in template "Title: {{ inputs.doc.title }}" at variables.title\n`,
    );
    expect(result.error).toContain(UNDEFINED_HINT);
    expect((await h.store.getRun(result.run_id))?.error).toBe(result.error);
    expect(h.mock.prompts).toEqual([]);
  });

  it("a filter's failure, in a nested pipeline's variables: placed in the child's file", async () => {
    const child = h.write(
      'child.yaml',
      [
        'name: child',
        'inputs:',
        '  n: { type: integer, required: true }',
        'variables:',
        '  short: "{{ \'some text\' | truncate_tokens: inputs.n }}"',
        'steps:',
        '  - { name: s, type: mock, prompt: "{{ short }}" }',
        '',
      ].join('\n'),
    );
    const parent = h.write(
      'parent.yaml',
      ['name: parent', 'steps:', '  - { name: sub, type: pipeline, file: child.yaml, inputs: { n: -5 } }', ''].join(
        '\n',
      ),
    );
    const result = await h.run(parent);
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`step "sub" failed: ${child}:5:11: truncate_tokens needs a whole number of tokens`);
    expect(result.error).toContain('at variables.short');
  });
});

describe('a set_variable step failing at run time', () => {
  it('names file:line:col of the value and its key path under the step', async () => {
    const file = h.write(
      'set.yaml',
      [
        'name: set',
        'inputs:',
        '  doc: { type: object, required: true }',
        'steps:',
        '  - { name: first, type: mock, prompt: hi }',
        '  - name: pick',
        '    type: set_variable',
        '    variables:',
        '      fine: ok',
        '      title: "{{ inputs.doc.title }}"',
        '',
      ].join('\n'),
    );
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('failed');
    expect(result.error).toContain(
      `step "pick" failed: ${file}:10:18: undefined variable "inputs.doc.title" in template "{{ inputs.doc.title }}" at steps[1].variables.title\n`,
    );
    expect(result.error).toContain(UNDEFINED_HINT);
  });

  it('inside a parallel group, and in an inline child pipeline (the parent file, below `pipeline:`)', async () => {
    const file = h.write(
      'nested.yaml',
      [
        'name: nested',
        'inputs:',
        '  doc: { type: object, required: true }',
        'steps:',
        '  - name: group',
        '    type: parallel',
        '    steps:',
        '      - { name: a, type: mock, prompt: hi }',
        '      - name: sub',
        '        type: pipeline',
        '        inputs: { doc: "{{ inputs.doc }}" }',
        '        pipeline:',
        '          name: inner',
        '          inputs:',
        '            doc: { type: object, required: true }',
        '          steps:',
        '            - name: pick',
        '              type: set_variable',
        '              variables: { tags: ["{{ inputs.doc.tags | join: \', \' }}"] }',
        '',
      ].join('\n'),
    );
    const result = await h.run(file, { doc: {} });
    expect(result.status).toBe('failed');
    // Column 39: `inputs.doc.tags` inside the flow sequence; the key path is the one in the file.
    expect(result.error).toContain(
      `step "sub/pick" failed: ${file}:19:39: undefined variable "inputs.doc.tags" in template "{{ inputs.doc.tags | join: ', ' }}" at steps[0].steps[1].pipeline.steps[0].variables.tags[0]`,
    );
  });
});
