// The README's quick start and library example must stay true: the quick start is exactly two
// commands and the first is run here as written; the library example is a file of its own
// (examples/library.ts), quoted verbatim in the README, and it is run here; the commands table
// names only flags the commands have.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../src/cli/commands/index.js';
import { createCliContext } from '../src/cli/context.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('quotes examples/library.ts verbatim', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(join(root, 'examples/library.ts'), 'utf8'));
  });

  it('the library example runs and prints the greeting', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'examples/library.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/greet: succeeded in/);
    expect(out.stdout).toMatch(/succeeded Hello, Ada!/);
  });

  it('the quick start is two commands: install and run an example, then the tests (which build first)', () => {
    const quickStart = /## Quick start\n[\s\S]*?```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(quickStart).toBe('npm ci && npx elexirion run examples/hello.yaml --mock\nnpm test');
    const scripts = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    // `npm ci` runs `prepare`, which builds the bin's dist/; `npm test` builds before testing.
    expect(scripts.prepare).toBe('npm run build');
    expect(scripts.test).toMatch(/^npm run build && /);
  });

  it('the commands table names only flags the commands have', () => {
    const program = new Command('elexirion');
    const ctx = createCliContext({ env: { NO_COLOR: '1' } });
    for (const register of commands) register(program, ctx, () => {});
    const rows = [...readme.matchAll(/^\| `elexirion ([a-z]+)[^|]*\|/gm)];
    expect(rows.length).toBeGreaterThan(4);
    for (const [row, name] of rows) {
      const command = program.commands.find((c) => c.name() === name);
      expect(command, row).toBeDefined();
      const known = new Set((command as Command).options.flatMap((o) => [o.long, o.short]));
      const used = [...row.matchAll(/(?<![\w-])--?[a-z][a-z-]*/g)].map((m) => m[0]);
      expect(
        used.filter((flag) => !known.has(flag)),
        row,
      ).toEqual([]);
    }
  });

  // On a fresh clone, npx's first use installs the project itself into its cache, which runs its
  // `prepare` (the build) once more: tens of seconds on a loaded CI machine, not a hang.
  it('the quick start runs the example pipeline offline', { timeout: 180_000 }, () => {
    // As the README says it: npx finds the project's own bin (--no-install: never the network).
    const out = spawnSync(
      'npx',
      ['--no-install', 'elexirion', 'run', 'examples/hello.yaml', '--mock', '--db', ':memory:'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/hello succeeded/);
  });
});
