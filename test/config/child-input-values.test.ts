// A `pipeline` step's plain (untemplated) input values are checked against the child's declared
// types and enums when the parent loads — at their place in the parent's file — not after the
// steps before it have run and been paid for. Templated values are checked when rendered.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-child-inputs-'));
writeFileSync(
  join(dir, 'child.yaml'),
  [
    'name: child',
    'inputs:',
    '  count: { type: integer, required: true }',
    '  tone: { type: string, enum: [dry, warm], default: dry }',
    '  tags: { type: array, default: [] }',
    'steps:',
    '  - { name: s, type: mock, prompt: "{{ count }} {{ tone }} {{ tags | json }}" }',
    '',
  ].join('\n'),
);

async function problemsOf(inputs: string[]): Promise<string[]> {
  const file = join(dir, `parent-${Math.random().toString(36).slice(2)}.yaml`);
  const lines = ['name: parent', 'steps:', '  - name: go', '    type: pipeline', '    file: child.yaml', '    inputs:'];
  writeFileSync(file, [...lines, ...inputs.map((i) => `      ${i}`), ''].join('\n'));
  try {
    await loadPipeline(file);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.diagnostics.map((d) => `${d.line}:${d.col} ${d.path}: ${d.message} (${d.hint})`);
  }
}

describe("a pipeline step's plain input values", () => {
  it('refuses a value of the wrong type at load time, at its place in the parent', async () => {
    expect(await problemsOf(['count: three'])).toEqual([
      '7:14 steps[0].inputs.count: pipeline file "child.yaml" declares input "count" as integer, but this step gives it the string "three" (give a whole number such as 3)',
    ]);
    const [notList] = await problemsOf(['count: 3', 'tags: a, b']);
    expect(notList).toMatch(/^8:13 steps\[0\]\.inputs\.tags: .*input "tags" as array/);
  });

  it('refuses a value outside the enum', async () => {
    const [problem] = await problemsOf(['count: 3', 'tone: angry']);
    expect(problem).toContain('allows input "tone" only some values, and the string "angry" is not one of them');
    expect(problem).toContain('allowed: "dry", "warm"');
  });

  it('reads strings as a run does (`"3"` is an integer), and leaves templates and nulls to run time', async () => {
    expect(await problemsOf(['count: "3"', 'tone: warm'])).toEqual([]);
    expect(await problemsOf(['count: "{{ \'many\' }}"'])).toEqual([]);
    expect(await problemsOf(['count: 2', 'tone: null'])).toEqual([]);
  });

  it('checks an inline pipeline the same way', async () => {
    const file = join(dir, 'inline.yaml');
    writeFileSync(
      file,
      [
        'name: parent',
        'steps:',
        '  - name: go',
        '    type: pipeline',
        '    inputs: { n: 1.5 }',
        '    pipeline:',
        '      name: inner',
        '      inputs: { n: { type: integer, required: true } }',
        '      steps: [{ name: s, type: mock, prompt: "{{ n }}" }]',
        '',
      ].join('\n'),
    );
    const error = await loadPipeline(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      'inline.yaml:5:18: the inline pipeline declares input "n" as integer, but this step gives it the number 1.5',
    );
  });
});
