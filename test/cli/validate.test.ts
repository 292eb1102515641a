import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { formatDiagnostic } from '../../src/errors.js';
import { runMain } from './run-main.js';

const root = join(import.meta.dirname, '..', '..');
const bad = 'test/corpus/misspelt-step-key.yaml';
const stackLine = /^\s+at /m;

describe('elexirion validate', () => {
  it('prints one summary line per valid file and exits 0', async () => {
    const result = await runMain(['validate', 'examples/hello.yaml', 'examples/support-triage.yaml'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        '✓ examples/hello.yaml: pipeline "hello", 3 steps, 2 inputs',
        '✓ examples/support-triage.yaml: pipeline "support-triage", 4 steps, 2 inputs',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('');
  });

  it('exits 2 with every error as file:line:col: message at path, and a hint', async () => {
    const result = await runMain(['validate', 'examples/hello.yaml', bad], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('✓ examples/hello.yaml');
    const expected = formatDiagnostic({
      file: bad,
      line: 5,
      col: 5,
      path: 'steps[0].promt',
      message: 'unknown key "promt"',
      hint: 'did you mean "prompt"?',
    });
    expect(result.stderr).toBe(`${expected}\n✗ 1 of 2 files invalid (1 error)\n`);
  });

  it('a missing file is a clear error with exit 2', async () => {
    const result = await runMain(['validate', 'nope/missing.yaml'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^nope\/missing\.yaml:1:1: no such file\n {2}hint: check the path/);
  });

  it('--json prints machine-readable results on stdout', async () => {
    const result = await runMain(['validate', '--json', 'examples/hello.yaml', bad], { cwd: root });
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as { ok: boolean; files: Record<string, unknown>[] };
    expect(report.ok).toBe(false);
    expect(report.files[0]).toMatchObject({ file: 'examples/hello.yaml', ok: true, pipeline: 'hello', steps: 3 });
    expect(report.files[1]).toMatchObject({
      file: bad,
      ok: false,
      diagnostics: [{ line: 5, col: 5, path: 'steps[0].promt', message: 'unknown key "promt"' }],
    });
  });

  it("--json keeps every file's report when one holds an alias inside its own anchor", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-validate-'));
    try {
      const cyclic = join(dir, 'cyc.yaml');
      writeFileSync(cyclic, 'name: cyc\nvariables: &v\n  self: *v\nsteps:\n  - { name: a, type: mock, prompt: x }\n');
      const result = await runMain(['validate', '--json', 'examples/hello.yaml', cyclic, bad], { cwd: root });
      expect(result.code).toBe(2);
      const report = JSON.parse(result.stdout) as { files: Record<string, unknown>[] };
      expect(report.files.map((f) => [f.file, f.ok])).toEqual([
        ['examples/hello.yaml', true],
        [cyclic, false],
        [bad, false],
      ]);
      expect(report.files[1]).toMatchObject({
        diagnostics: [
          { line: 3, col: 9, message: expect.stringContaining('the alias *v is inside the value it repeats') },
        ],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('colors only when allowed: NO_COLOR wins over FORCE_COLOR', async () => {
    const colored = await runMain(['validate', bad], { cwd: root, env: { FORCE_COLOR: '1' } });
    const plain = await runMain(['validate', bad], { cwd: root, env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape codes are what is tested
    const ansi = /\u001b\[/;
    expect(colored.stderr).toMatch(ansi);
    expect(plain.stderr).not.toMatch(ansi);
    expect(plain.stderr).toContain(`${bad}:5:5: unknown key "promt" at steps[0].promt`);
  });

  it('--debug is the only way to a stack trace', async () => {
    const normal = await runMain(['validate', bad], { cwd: root });
    const debug = await runMain(['--debug', 'validate', bad], { cwd: root });
    expect(normal.stderr).not.toMatch(stackLine);
    expect(debug.stderr).toMatch(stackLine);
    expect(debug.code).toBe(2);
  });
});

describe('help and version', () => {
  it('elexirion --help lists the commands', async () => {
    const result = await runMain(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: elexirion/);
    expect(result.stdout).toMatch(/^\s+validate \[options\] <files\.\.\.>/m);
    expect(result.stdout).toMatch(/^\s+schema\b/m);
  });

  it('elexirion validate --help explains the command and its exit codes', async () => {
    const result = await runMain(['validate', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: elexirion validate [options] <files...>');
    expect(result.stdout).toContain('--json');
    expect(result.stdout).toContain('Exit codes: 0 all files are valid, 2 at least one is not.');
  });

  it('--version prints the package version', async () => {
    const result = await runMain(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(VERSION);
  });

  it('a usage mistake is exit 2 with a pointer to --help, not a stack trace', async () => {
    const result = await runMain(['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'files'");
    expect(result.stderr).not.toMatch(stackLine);
  });

  it('the built bin behaves the same: exit codes and no stack trace', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/elexirion.js', ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
    expect(run('--version').stdout.trim()).toBe(VERSION);
    const ok = run('validate', 'examples/hello.yaml');
    expect(ok.status).toBe(0);
    const failed = run('validate', bad);
    expect(failed.status).toBe(2);
    expect(failed.stderr).not.toMatch(stackLine);
  });
});
