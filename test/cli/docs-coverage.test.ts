// docs/cli.md is the CLI reference: every command the program registers must have a section there,
// and every flag of `run` must be in its table, so the reference cannot fall behind the code.
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
});
