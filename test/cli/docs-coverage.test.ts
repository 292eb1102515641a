// docs/cli.md is the CLI reference: every command the program registers must have a section there,
// and every flag of `run` must be in its table, so the reference cannot fall behind the code; the
// Node setting it recommends for many runs in one process must be one this Node takes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { createCliContext } from '../../src/cli/context.js';
import { runMain } from './run-main.js';

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

/** The fenced block of `language` that follows the first line containing `after`. */
function blockAfter(markdown: string, after: string, language: string): string {
  const from = markdown.indexOf(after);
  expect(from, `"${after}" is in the document`).toBeGreaterThan(-1);
  const match = new RegExp(`\`\`\`${language}\n([\\s\\S]*?)\n\`\`\``).exec(markdown.slice(from));
  expect(match, `a ${language} block follows "${after}"`).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

describe('what the docs show the CLI printing is what it prints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-docs-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('docs/templates.md: `elexirion validate` on the broken example', async () => {
    const templates = readFileSync(join(import.meta.dirname, '../../docs/templates.md'), 'utf8');
    const yaml = blockAfter(templates, 'For example, `elexirion validate` on', 'yaml');
    const says = blockAfter(templates, '\nsays\n', 'text');
    // The `# invalid` marker line is for test/docs.test.ts, not part of the file shown.
    writeFileSync(join(dir, 'broken.yaml'), `${yaml.replace(/^# invalid\n/, '')}\n`);
    const result = await runMain(['validate', 'broken.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${says}\n✗ 1 of 1 file invalid (3 errors)\n`);
  });

  it('docs/cli.md: the JSON of an error has the documented fields and texts', async () => {
    const documented = JSON.parse(blockAfter(reference, 'With `--json`, stdout holds one JSON document', 'json')) as {
      diagnostics: Record<string, unknown>[];
    };
    writeFileSync(join(dir, 'review.yaml'), 'name: review\nsteps:\n  - name: a\n    type: mock\n    promt: hi\n');
    const result = await runMain(['run', 'review.yaml', '--mock', '--json', '--db', ':memory:'], { cwd: dir });
    expect(result.code).toBe(2);
    const printed = JSON.parse(result.stdout) as typeof documented;
    expect(Object.keys(printed)).toEqual(Object.keys(documented));
    expect(printed).toMatchObject({
      ...documented,
      diagnostics: [{ ...documented.diagnostics[0], line: 5, col: 5, path: 'steps[0].promt' }],
    });
  });
});
