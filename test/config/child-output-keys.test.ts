// `steps.NAME.output.KEY` of a `pipeline` step whose child declares its outputs: the output is
// exactly that map, so a misspelt KEY is an error when the parent loads, at its place, with a
// did-you-mean — not an "undefined variable" after every step before it has run and been paid for.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-child-outputs-'));
writeFileSync(
  join(dir, 'child.yaml'),
  'name: child\nsteps:\n  - { name: s, type: mock, prompt: hi }\noutputs:\n  summary: "{{ steps.s.output }}"\n',
);
writeFileSync(join(dir, 'silent.yaml'), 'name: silent\nsteps:\n  - { name: s, type: mock, prompt: hi }\n');

async function problemsOf(lines: string[]): Promise<string[]> {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  try {
    await loadPipeline(file);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.diagnostics.map((d) => `${d.line}:${d.col} ${d.message} (${d.hint})`);
  }
}

const parent = (child: string[], read: string) => [
  'name: parent',
  'steps:',
  '  - name: sub',
  '    type: pipeline',
  ...child.map((l) => `    ${l}`),
  '  - name: use',
  '    type: mock',
  `    prompt: "${read}"`,
];

describe("reading a pipeline step's output keys", () => {
  it('a file child: a misspelt key is refused at load time with a did-you-mean', async () => {
    expect(await problemsOf(parent(['file: child.yaml'], 'x {{ steps.sub.output.sumary }}'))).toEqual([
      '8:19 pipeline step "sub" has no output "sumary" (not among the outputs its pipeline declares) (did you mean "summary"?)',
    ]);
    expect(await problemsOf(parent(['file: child.yaml'], '{{ steps.sub.output.summary }}'))).toEqual([]);
    expect(await problemsOf(parent(['file: child.yaml'], '{{ steps.sub.output | json }}'))).toEqual([]);
  });

  it('a child that declares no outputs says so', async () => {
    const [problem] = await problemsOf(parent(['file: silent.yaml'], '{{ steps.sub.output.text }}'));
    expect(problem).toContain('has no output "text"');
    expect(problem).toContain('the child pipeline declares no outputs');
  });

  it('an inline child, read from the parent’s outputs too', async () => {
    const inline = [
      'pipeline:',
      '  name: inner',
      '  steps: [{ name: s, type: mock, prompt: hi }]',
      '  outputs: { text: "{{ steps.s.output }}" }',
    ];
    const lines = [...parent(inline, '{{ steps.sub.output.text }}'), 'outputs:', '  t: "{{ steps.sub.output.txt }}"'];
    const problems = await problemsOf(lines);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^13:\d+ pipeline step "sub" has no output "txt".*did you mean "text"/);
  });

  it('a child file that is missing leaves the key unchecked (its own problem is reported)', async () => {
    const problems = await problemsOf(parent(['file: nowhere.yaml'], '{{ steps.sub.output.anything }}'));
    expect(problems.some((p) => p.includes('has no output'))).toBe(false);
  });
});
