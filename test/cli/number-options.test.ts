// Numeric flags are read strictly: `Number('')` is 0, so `serve --port "$PORT"` with PORT unset
// listened on a random port, `--grace ""` gave runs no grace, `--max-cost ""` a budget of $0. An
// empty, blank, hexadecimal, exponent or out-of-range value is a usage mistake (exit 2) naming the
// flag — before anything is opened or started.
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_SECONDS, numberOption } from '../../src/cli/option-values.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { runMain } from './run-main.js';

const BAD_WHOLE = ['', ' ', ' 80', '80 ', '0x50', '1e3', '80.0', '-1', '+80', '8_080', 'eighty', 'Infinity'];

describe('numberOption', () => {
  const port = { expected: 'a port number (0 to 65535)', min: 0, max: 65_535 };
  it('takes decimal digits within the range', () => {
    expect(numberOption('--port', '0', port)).toBe(0);
    expect(numberOption('--port', '8787', port)).toBe(8787);
    expect(numberOption('--port', '65535', port)).toBe(65_535);
  });

  it.each([...BAD_WHOLE, '65536'])('refuses --port %j', (value) => {
    expect(() => numberOption('--port', value, port)).toThrow(UsageError);
    expect(() => numberOption('--port', value, port)).toThrow(`--port ${JSON.stringify(value)} is not a port number`);
  });

  it('takes fractions where they make sense, and only decimal ones', () => {
    const usd = { expected: 'an amount of USD', min: 0, fractions: true };
    expect(numberOption('--max-cost', '2.50', usd)).toBe(2.5);
    expect(numberOption('--max-cost', '.5', usd)).toBe(0.5);
    expect(numberOption('--max-cost', '3.', usd)).toBe(3);
    expect(numberOption('--max-cost', '0', usd)).toBe(0);
    for (const bad of ['', ' ', '.', '1e2', '0x1', '-0.5', 'NaN', 'Infinity', '1,5', '1.2.3']) {
      expect(() => numberOption('--max-cost', bad, usd), bad).toThrow(UsageError);
    }
  });

  it('says an empty value may be an unset variable', () => {
    const error = (() => {
      try {
        numberOption('--grace', '', { expected: 'a number of seconds', min: 0, hint: 'e.g. --grace 30' });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error?.exitCode).toBe(ExitCode.invalidInput);
    expect(error?.hint).toMatch(/empty.*may be unset/);
  });
});

describe('numeric flags of the commands', () => {
  // Each case would, on a value read loosely, go on past the flags and stop at something later
  // (a cluster with an in-memory journal, a pipeline that does not exist, a run that does not):
  // the error must be about the flag.
  const cases: [string, string[]][] = [
    ['--port', ['serve', '--port', '', '--cluster', '--db', ':memory:']],
    ['--port', ['serve', '--port', ' ', '--cluster', '--db', ':memory:']],
    ['--port', ['serve', '--port', '0x1f90', '--cluster', '--db', ':memory:']],
    ['--port', ['serve', '--port', '8e3', '--cluster', '--db', ':memory:']],
    ['--grace', ['serve', '--port', '0', '--grace', '', '--cluster', '--db', ':memory:']],
    ['--grace', ['serve', '--port', '0', '--grace', '0x10', '--cluster', '--db', ':memory:']],
    ['--grace', ['serve', '--port', '0', '--grace', String(MAX_TIMER_SECONDS + 1), '--cluster', '--db', ':memory:']],
    ['--limit', ['runs', '--limit', '0x10', '--db', ':memory:']],
    ['--limit', ['runs', '-n', '1e1', '--db', ':memory:']],
    ['--concurrency', ['worker', '--concurrency', '0x4', '--redis', 'redis://127.0.0.1:1']],
    ['--max-cost', ['run', 'no-such-pipeline.yaml', '--max-cost', '']],
    ['--max-cost', ['run', 'no-such-pipeline.yaml', '--max-cost', 'Infinity']],
    ['--max-cost', ['resume', 'NO_SUCH_RUN', '--max-cost', '', '--db', ':memory:']],
  ];

  it.each(cases)('%s: %j is a usage mistake about the flag', async (flag, args) => {
    const result = await runMain(args);
    expect(result.code).toBe(ExitCode.invalidInput);
    expect(result.stderr).toMatch(new RegExp(`^error: ${flag} ".*" is not `, 'm'));
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('with --json, the error is the JSON document', async () => {
    const result = await runMain(['runs', '--json', '--limit', '', '--db', ':memory:']);
    expect(result.code).toBe(ExitCode.invalidInput);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: '--limit "" is not a whole number of runs (1 or more)' });
  });
});
