// The README's quick start and library example must stay true: the example is a file of its own
// (examples/library.ts), quoted verbatim in the README, and it is run here.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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

  it('the quick start runs the example pipeline offline', () => {
    expect(readme).toContain('npm ci && npx elexirion run examples/hello.yaml --mock\nnpm test');
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
