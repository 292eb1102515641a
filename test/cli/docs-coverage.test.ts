// docs/cli.md is the CLI reference: every command the program registers must have a section there,
// and every flag of `run` must be in its table, so the reference cannot fall behind the code; the
// Node setting it recommends for many runs in one process must be one this Node takes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { createCliContext } from '../../src/cli/context.js';

const reference = readFileSync(join(import.meta.dirname, '../../docs/cli.md'), 'utf8');

function program(): Command {
  const p = new Command('elexirion');
  const ctx = createCliContext({ env: { NO_COLOR: '1' } });
  for (const register of commands) register(p, ctx, () => {});
  return p;
}

describe('docs/cli.md', () => {
  const registered = program().commands;

  it.each(registered.map((c) => c.name()))('documents `elexirion %s`', (name) => {
    expect(reference).toContain(`\`elexirion ${name}`);
  });

  it('documents every flag of `run`', () => {
    const run = registered.find((c) => c.name() === 'run') as Command;
    const flags = run.options.map((o) => o.long).filter((f): f is string => f !== undefined);
    expect(flags.length).toBeGreaterThan(5);
    const missing = flags.filter((flag) => !reference.includes(flag));
    expect(missing).toEqual([]);
  });

  it('recommends a NODE_OPTIONS this Node accepts, with the CLI and in effect', () => {
    const options = /^NODE_OPTIONS=(\S+) npx elexirion serve$/m.exec(reference)?.[1];
    expect(options).toMatch(/^--max-semi-space-size=\d+$/);
    const root = join(import.meta.dirname, '../..');
    const env = { ...process.env, NODE_OPTIONS: options };
    const cli = spawnSync(process.execPath, ['bin/elexirion.js', 'validate', 'examples/hello.yaml'], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    // The young generation is two semi-spaces: filled, it reaches twice the size asked for.
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        "const a = []; for (let i = 0; i < 3e6; i++) a.push({ i }); console.log(require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)",
      ],
      { env, encoding: 'utf8' },
    );
    const megabytes = Number(/=(\d+)$/.exec(options as string)?.[1]);
    expect(Number(probe.stdout.trim())).toBe(2 * megabytes * 2 ** 20);
  });
});
