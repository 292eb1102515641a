// `resume --force` against a pipeline that now requires an input the run never had: resume takes no
// --input (a run keeps its inputs), so its hint must name what does work — not `--input`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

describe('resume --force and a newly required input', () => {
  it('exits 2 with a hint resume can follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-resume-inputs-'));
    const file = join(dir, 'f.yaml');
    writeFileSync(
      file,
      'name: f\nsteps:\n  - { name: a, type: mock, prompt: hi, fail_first: 10, retry: { max_attempts: 1 } }\n',
    );
    const first = await runMain(['run', file, '--mock', '--json', '--db', 'j.db'], { cwd: dir });
    expect(first.code).toBe(1);
    const runId = (JSON.parse(first.stdout) as { run_id: string }).run_id;
    writeFileSync(
      file,
      'name: f\ninputs:\n  m: { type: string, required: true }\nsteps:\n  - { name: a, type: mock, prompt: "hi {{ m }}" }\n',
    );
    const resumed = await runMain(['resume', runId, '--force', '--db', 'j.db'], { cwd: dir });
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain(`${file}:3:6: missing required input "m" (string) at inputs.m`);
    expect(resumed.stderr).not.toContain('pass it with --input');
    expect(resumed.stderr).toContain('resume takes no --input');
    expect(resumed.stderr).toContain(`elexirion run ${file} --input m=VALUE`);
    // What the hint says works: a default, then resume --force again.
    writeFileSync(
      file,
      'name: f\ninputs:\n  m: { type: string, default: x }\nsteps:\n  - { name: a, type: mock, prompt: "hi {{ m }}" }\n',
    );
    const again = await runMain(['resume', runId, '--force', '--db', 'j.db'], { cwd: dir });
    expect(again.code).toBe(0);
  });

  it('`run` keeps its --input hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-resume-inputs-'));
    writeFileSync(
      join(dir, 'g.yaml'),
      'name: g\ninputs:\n  m: { type: string, required: true }\nsteps:\n  - { name: a, type: mock, prompt: "{{ m }}" }\n',
    );
    const run = await runMain(['run', 'g.yaml', '--mock', '--db', 'j.db'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pass it with --input m=VALUE');
  });
});
