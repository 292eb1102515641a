// `elexirion worker --metrics-port N [--metrics-host H]`: the port is read strictly (`Number('')` is
// 0: `--metrics-port "$PORT"` with PORT unset must not serve on a random port), and checked before
// the worker connects to anything; --metrics-host means nothing without a port.
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { runMain } from './run-main.js';

// No Redis is named: a flag read loosely would get past the flags and fail on that instead.
const env = { NO_COLOR: '1' };

describe('worker --metrics-port and --metrics-host', () => {
  it.each(['', ' ', '0x1f90', '9e3', '-1', '65536', '9464.5', 'metrics'])(
    'refuses --metrics-port %j',
    async (value) => {
      const result = await runMain(['worker', '--metrics-port', value], { env });
      expect(result.code).toBe(ExitCode.invalidInput);
      expect(result.stderr).toContain(`--metrics-port ${JSON.stringify(value)} is not a port number (0 to 65535`);
    },
  );

  it('says an empty port may come from an unset variable', async () => {
    const result = await runMain(['worker', '--metrics-port', ''], { env });
    expect(result.stderr).toMatch(/empty.*may be unset/);
  });

  it('refuses --metrics-host without --metrics-port, and an empty one', async () => {
    const alone = await runMain(['worker', '--metrics-host', '0.0.0.0'], { env });
    expect(alone.code).toBe(ExitCode.invalidInput);
    expect(alone.stderr).toContain('--metrics-host needs --metrics-port');
    const empty = await runMain(['worker', '--metrics-port', '9464', '--metrics-host', ''], { env });
    expect(empty.code).toBe(ExitCode.invalidInput);
    expect(empty.stderr).toContain('--metrics-host "" is not an address');
  });

  it('takes a port from 0 to 65535 (and then asks for the cluster’s Redis)', async () => {
    for (const port of ['0', '9464', '65535']) {
      const result = await runMain(['worker', '--metrics-port', port], { env });
      expect(result.stderr).not.toContain('--metrics-port');
      expect(result.stderr).toContain('cluster mode needs a Redis');
    }
  });

  it('is in the help', async () => {
    const help = await runMain(['worker', '--help'], { env });
    expect(help.stdout).toMatch(/--metrics-port <n>/);
    expect(help.stdout).toMatch(/--metrics-host <host>/);
  });
});
