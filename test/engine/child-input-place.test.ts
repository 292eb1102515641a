// A nested pipeline's templated input that renders to the wrong type is the parent's mistake: the
// error points at the value the parent wrote (file:line:col, key path), the child's declaration
// named beside it. Before, it pointed at the child's declaration only (`child.yaml:3:10`). Both
// files are named as the run's load-time errors name them (as typed, else absolute).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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

const CHILD = [
  'name: child',
  'inputs:',
  '  count: { type: integer, required: true }',
  'steps:',
  '  - { name: s, type: mock, prompt: "n={{ count }}" }',
  '',
].join('\n');

/** `sub/child.yaml` and `sub/parent.yaml` (these steps), loaded as `sub/parent.yaml` from the test's directory. */
async function startedAsSubParent(steps: string[]) {
  mkdirSync(join(h.dir, 'sub'));
  h.write(join('sub', 'child.yaml'), CHILD);
  h.write(join('sub', 'parent.yaml'), ['name: parent', 'steps:', ...steps, ''].join('\n'));
  return loadPipeline(join('sub', 'parent.yaml'), { cwd: h.dir });
}

describe("a nested pipeline's input of the wrong type at run time", () => {
  it("points at the parent's value, the child's declaration as context", async () => {
    const child = h.write('child.yaml', CHILD);
    const parent = h.write(
      'parent.yaml',
      [
        'name: parent',
        'steps:',
        '  - { name: first, type: mock, prompt: hi, response: three }',
        '  - name: sub',
        '    type: pipeline',
        '    file: child.yaml',
        '    inputs:',
        '      count: "{{ steps.first.output }}"',
        '',
      ].join('\n'),
    );
    const result = await h.run(parent);
    expect(result.status).toBe('failed');
    expect(result.error).toBe(
      `step "sub" failed: ${parent}:8:14: input "count" must be integer, got the string "three" ` +
        `(the child pipeline declares it at ${child}:3:10) at steps[1].inputs.count\n` +
        '  hint: give a whole number such as 3',
    );
  });

  it('an inline child in a parallel group: the value in the group, not the declaration below it', async () => {
    const file = h.write(
      'inline.yaml',
      [
        'name: parent',
        'steps:',
        '  - name: group',
        '    type: parallel',
        '    steps:',
        '      - name: sub',
        '        type: pipeline',
        `        inputs: { count: "{{ 'many' }}" }`,
        '        pipeline:',
        '          name: inner',
        '          inputs:',
        '            count: { type: integer, required: true }',
        '          steps:',
        '            - { name: s, type: mock, prompt: "{{ count }}" }',
        '',
      ].join('\n'),
    );
    const result = await h.run(file);
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`${file}:8:26: input "count" must be integer`);
    expect(result.error).toContain(
      `(the child pipeline declares it at ${file}:12:20) at steps[0].steps[0].inputs.count`,
    );
  });

  it('a required input whose template renders null: no `--input` hint, the template is to fix', async () => {
    h.write('child.yaml', CHILD);
    const parent = h.write(
      'parent.yaml',
      [
        'name: parent',
        'steps:',
        '  - { name: first, type: mock, prompt: hi, when: "{{ false }}" }',
        '  - name: sub',
        '    type: pipeline',
        '    file: child.yaml',
        '    inputs: { count: "{{ steps.first.output }}" }',
        '',
      ].join('\n'),
    );
    const result = await h.run(parent);
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`${parent}:7:22: missing required input "count" (integer)`);
    expect(result.error).toContain('its template rendered null');
    expect(result.error).not.toContain('--input');
  });

  it('names both files as the run was started with them (relative), as load-time errors do', async () => {
    const loaded = await startedAsSubParent([
      `  - { name: sub, type: pipeline, file: child.yaml, inputs: { count: "{{ 'x' }}" } }`,
    ]);
    const result = await (await h.engine.start(loaded, { mock: true })).result;
    expect(result.status).toBe('failed');
    expect(result.error).toContain(
      `${join('sub', 'parent.yaml')}:3:69: input "count" must be integer, got the string "x" ` +
        `(the child pipeline declares it at ${join('sub', 'child.yaml')}:3:10) at steps[0].inputs.count`,
    );
  });

  it('a child file that no longer loads when its step runs: named beside the parent as the run was started', async () => {
    const loaded = await startedAsSubParent([
      '  - { name: first, type: mock, prompt: hi, latency: 300ms }',
      '  - { name: sub, type: pipeline, file: child.yaml, inputs: { count: 3 } }',
    ]);
    const handle = await h.engine.start(loaded, { mock: true });
    // Changed while the first step runs: valid when the run started, broken when its step loads it.
    h.write(join('sub', 'child.yaml'), CHILD.replace('type: mock', 'type: nosuchtype'));
    const result = await handle.result;
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`${join('sub', 'child.yaml')}:5:`);
    expect(result.error).not.toMatch(/(^|[\s"])child\.yaml:/);
  });
});
