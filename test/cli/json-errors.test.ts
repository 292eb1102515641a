// `--json` promises one JSON object on stdout: on an error too, or `elexirion run x.yaml --json |
// jq .status` reads an empty document. The error object has the HTTP API's shape (error, hint,
// diagnostics) plus the exit code; the sentence and hint still go to stderr.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const root = join(import.meta.dirname, '..', '..');
const bad = 'test/corpus/misspelt-step-key.yaml';

function parseOne(stdout: string): Record<string, unknown> {
  expect(stdout.trim()).not.toBe('');
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('--json on an error', () => {
  it('an invalid pipeline: the diagnostics, with file:line:col, and exit_code 2', async () => {
    const result = await runMain(['run', bad, '--mock', '--json', '--db', ':memory:'], { cwd: root });
    expect(result.code).toBe(2);
    expect(parseOne(result.stdout)).toEqual({
      error: 'the pipeline or its inputs are invalid',
      hint: 'fix the problems listed in `diagnostics`',
      diagnostics: [
        {
          file: bad,
          line: 5,
          col: 5,
          path: 'steps[0].promt',
          message: 'unknown key "promt"',
          hint: 'did you mean "prompt"?',
        },
      ],
      exit_code: 2,
    });
    expect(result.stderr).toContain(`${bad}:5:5: unknown key "promt"`);
  });

  it('invalid inputs, an unknown run id, a bad flag value', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'examples/hello.yaml', '--mock', '--json', '--db', ':memory:', '-i', 'nmae=Ada'], /invalid/],
      [['runs', 'show', 'NO_SUCH_RUN', '--json', '--db', ':memory:'], /no run with id NO_SUCH_RUN/],
      [['resume', 'NO_SUCH_RUN', '--json', '--db', ':memory:'], /no run with id NO_SUCH_RUN/],
      [['chain', '--resume', 'NO_SUCH_RUN', '--json', '--db', ':memory:'], /no run with id NO_SUCH_RUN/],
      [['run', 'examples/hello.yaml', '--json', '--max-cost', 'lots'], /--max-cost "lots"/],
      [['runs', '--json', '--status', 'done', '--db', ':memory:'], /unknown status "done"/],
    ];
    for (const [args, error] of cases) {
      const result = await runMain(args, { cwd: root });
      expect(result.code, args.join(' ')).toBe(2);
      const body = parseOne(result.stdout);
      expect(body.error, args.join(' ')).toMatch(error);
      expect(body.exit_code).toBe(2);
    }
  });

  it('a usage mistake caught by the argument parser', async () => {
    const missing = await runMain(['run', '--json'], { cwd: root });
    expect(missing.code).toBe(2);
    expect(parseOne(missing.stdout)).toEqual({
      error: "missing required argument 'file'",
      hint: 'run with --help for usage',
      exit_code: 2,
    });
    const unknown = await runMain(['runs', '--json', '--frobnicate'], { cwd: root });
    expect(parseOne(unknown.stdout)).toMatchObject({ error: "unknown option '--frobnicate'", exit_code: 2 });
  });

  it('without --json (or with it after `--`), stdout stays empty', async () => {
    const plain = await runMain(['run', bad, '--mock', '--db', ':memory:'], { cwd: root });
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    const afterDashes = await runMain(['run', '--', '--json'], { cwd: root });
    expect(afterDashes.stdout).toBe('');
  });
});
