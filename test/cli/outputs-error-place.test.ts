// An `outputs:` template that fails at run time — it reads a field the structured answer may have
// (the schema allows it) but this one lacks — is reported at its place in the pipeline file:
// file:line:col of the variable, the key path, the hint; a nested pipeline's, in the child's file.
// The file is named as load-time errors name it: as typed, or absolute where nothing else is known.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

// The mock answers an `anyOf` with its first shape: {approved}, never {verdict}.
const REVIEW_STEP = [
  '  - name: review',
  '    type: mock',
  '    model: m',
  '    schema:',
  '      anyOf:',
  '        - { type: object, required: [approved], properties: { approved: { type: boolean } } }',
  '        - { type: object, required: [verdict], properties: { verdict: { type: string } } }',
  '    prompt: Review this.',
];

function folder(files: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-outputs-place-'));
  for (const [name, lines] of Object.entries(files)) writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
  return dir;
}

describe("a run's outputs failing at run time", () => {
  it('names file:line:col of the failing template and its key path', async () => {
    const dir = folder({
      'review.yaml': [
        'name: review',
        'steps:',
        ...REVIEW_STEP,
        'outputs:',
        '  summary: ok',
        '  verdict: "Verdict: {{ steps.review.output.verdict }}"',
      ],
    });
    const file = join(dir, 'review.yaml');
    const result = await runMain(['run', file, '--mock', '--db', join(dir, 'j.db')]);
    expect(result.code, result.stderr).toBe(1);
    // Line 13; the variable starts at column 25 (after `  verdict: "Verdict: {{ `).
    expect(result.stdout).toContain(
      `failed at (run): ${file}:13:25: undefined variable "steps.review.output.verdict" in template "Verdict: {{ steps.review.output.verdict }}" at outputs.verdict\n`,
    );
    expect(result.stdout).toContain("hint: the name is not in this template's scope; use `| default: …`");
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
  });

  it("a nested pipeline's failing output is named in the child's file", async () => {
    const dir = folder({
      'child.yaml': [
        'name: child',
        'steps:',
        ...REVIEW_STEP,
        'outputs:',
        '  verdict: "{{ steps.review.output.verdict }}"',
      ],
      'parent.yaml': ['name: parent', 'steps:', '  - name: sub', '    type: pipeline', '    file: child.yaml'],
    });
    const result = await runMain(['run', join(dir, 'parent.yaml'), '--mock', '--db', join(dir, 'j.db')]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      `failed at sub: step "sub" failed: ${join(dir, 'child.yaml')}:12:16: undefined variable "steps.review.output.verdict"`,
    );
    expect(result.stdout).toContain('at outputs.verdict');
  });

  it('names the file as it was typed, as load-time errors do; resumed from elsewhere, absolute', async () => {
    const dir = folder({
      'review.yaml': [
        'name: review',
        'steps:',
        ...REVIEW_STEP,
        'outputs:',
        '  verdict: "{{ steps.review.output.verdict }}"',
      ],
    });
    const db = join(dir, 'j.db');
    const result = await runMain(['run', 'review.yaml', '--mock', '--db', db], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('failed at (run): review.yaml:12:16: undefined variable');
    // A resume reads the file by the absolute path the journal keeps, wherever it is run from.
    const id = /\(run (\w+)\)/.exec(result.stdout)?.[1] ?? '';
    const resumed = await runMain(['resume', id, '--db', db], { cwd: tmpdir() });
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(resumed.stdout).toContain(`failed at (run): ${join(dir, 'review.yaml')}:12:16: undefined variable`);
  });

  it("a nested pipeline's file is named beside its parent's, as typed", async () => {
    const dir = folder({});
    mkdirSync(join(dir, 'sub'));
    writeFileSync(
      join(dir, 'sub', 'child.yaml'),
      ['name: child', 'steps:', ...REVIEW_STEP, 'outputs:', '  verdict: "{{ steps.review.output.verdict }}"', ''].join(
        '\n',
      ),
    );
    writeFileSync(
      join(dir, 'sub', 'parent.yaml'),
      ['name: parent', 'steps:', '  - { name: sub, type: pipeline, file: child.yaml }', ''].join('\n'),
    );
    const result = await runMain(['run', 'sub/parent.yaml', '--mock', '--db', join(dir, 'j.db')], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      `failed at sub: step "sub" failed: ${join('sub', 'child.yaml')}:12:16: undefined variable`,
    );
  });
});
