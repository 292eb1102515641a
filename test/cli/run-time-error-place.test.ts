// Templates failing at run time, as `run` shows them: at file:line:col of the failing name (the file
// as typed, as load-time errors name it), the key path and the hint — in the text, in `--json`'s
// `error`, and in the journal (`runs show`), which keep the same message. Before, a step's error was
// the template text alone, and a pipeline's `variables:` had no place either.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const HINT = "  hint: the name is not in this template's scope; use `| default: …` for a value that may be absent";

const CASES = [
  {
    what: "a step's prompt",
    file: 'review.yaml',
    pipeline: [
      'name: review',
      'inputs:',
      '  doc: { type: object, required: true }',
      'steps:',
      '  - { name: intro, type: mock, prompt: "Hello" }',
      '  - name: review',
      '    type: mock',
      '    prompt: "Review {{ inputs.doc.title }}"',
    ],
    failedAt: 'review',
    error: `step "review" failed: review.yaml:8:24: undefined variable "inputs.doc.title" in template "Review {{ inputs.doc.title }}" at steps[1].prompt\n${HINT}`,
  },
  {
    what: "a pipeline's variables",
    file: 'vars.yaml',
    pipeline: [
      'name: vars',
      'inputs:',
      '  doc: { type: object, required: true }',
      'variables:',
      '  title: "Title: {{ inputs.doc.title }}"',
      'steps:',
      '  - { name: s, type: mock, prompt: "{{ title }}" }',
    ],
    failedAt: '(run)',
    error: `vars.yaml:5:21: undefined variable "inputs.doc.title" in template "Title: {{ inputs.doc.title }}" at variables.title\n${HINT}`,
  },
];

describe.each(CASES)('$what failing at run time, through the CLI', ({ file, pipeline, failedAt, error }) => {
  it('is named by the file as typed, the place, the path and the hint: text, --json and the journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-error-place-'));
    writeFileSync(join(dir, file), `${pipeline.join('\n')}\n`);
    const db = join(dir, 'j.db');
    const args = ['run', file, '--mock', '--db', db, '-i', 'doc={"body": "untitled"}'];

    const text = await runMain(args, { cwd: dir });
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain(`failed at ${failedAt}: ${error}\n`);
    expect(text.stdout + text.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);

    const json = await runMain([...args, '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(1);
    const run = JSON.parse(json.stdout) as { run_id: string; error: string };
    expect(run.error).toBe(error);

    const shown = await runMain(['runs', 'show', run.run_id, '--db', db, '--json'], { cwd: dir });
    expect((JSON.parse(shown.stdout) as { error: string }).error).toBe(error);
  });
});
