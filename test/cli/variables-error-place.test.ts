// A pipeline's `variables:` failing at run time, as `run` shows it: at file:line:col of the failing
// name (the file as typed, as load-time errors name it), the key path and the hint — in the text,
// in `--json`'s `error`, and in the journal (`runs show`), which keep the same message.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const PIPELINE = [
  'name: vars',
  'inputs:',
  '  doc: { type: object, required: true }',
  'variables:',
  '  title: "Title: {{ inputs.doc.title }}"',
  'steps:',
  '  - { name: s, type: mock, prompt: "{{ title }}" }',
  '',
];

const ERROR =
  'vars.yaml:5:21: undefined variable "inputs.doc.title" in template "Title: {{ inputs.doc.title }}" at variables.title\n' +
  "  hint: the name is not in this template's scope; use `| default: …` for a value that may be absent";

describe("a pipeline's variables failing at run time, through the CLI", () => {
  it('name the file as typed, the place, the path and the hint: text, --json and the journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-variables-place-'));
    writeFileSync(join(dir, 'vars.yaml'), PIPELINE.join('\n'));
    const db = join(dir, 'j.db');
    const args = ['run', 'vars.yaml', '--mock', '--db', db, '-i', 'doc={"body": "untitled"}'];

    const text = await runMain(args, { cwd: dir });
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain(`failed at (run): ${ERROR}\n`);
    expect(text.stdout + text.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);

    const json = await runMain([...args, '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(1);
    const run = JSON.parse(json.stdout) as { run_id: string; error: string };
    expect(run.error).toBe(ERROR);

    const shown = await runMain(['runs', 'show', run.run_id, '--db', db, '--json'], { cwd: dir });
    expect((JSON.parse(shown.stdout) as { error: string }).error).toBe(ERROR);
  });
});
