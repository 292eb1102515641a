// docs/cli.md is the CLI reference: every command the program registers must have a section there,
// every flag of every command (and subcommand) must be in its command's section, and every exit code
// must be listed, so the reference cannot fall behind the code; the Node setting it recommends for
// many runs in one process must be one this Node takes. What the docs show the CLI printing is run
// and compared with what it prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { createCliContext } from '../../src/cli/context.js';
import { ExitCode } from '../../src/errors.js';
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

  // Each command's flags in its own section: the one whose heading names it (`elexirion NAME` or
  // `NAME …`); a subcommand's (`runs show`, `cluster status`) are in its parent's section.
  const withSubcommands = registered.flatMap((c) => [
    [c.name(), c] as const,
    ...c.commands.map((sub) => [`${c.name()} ${sub.name()}`, sub] as const),
  ]);
  it.each(withSubcommands.map(([name, command]) => [name, command] as const))(
    'documents every flag of `elexirion %s` in its section',
    (name, command) => {
      const top = name.split(' ')[0] as string;
      const sections = reference.split(/^(?=## )/m);
      const section = sections.find((s) => {
        const heading = s.split('\n')[0] as string;
        return heading.startsWith('## ') && (heading.includes(`\`elexirion ${top}`) || heading.includes(`\`${top} `));
      });
      expect(section, `a section of docs/cli.md whose heading names ${top}`).toBeDefined();
      const flags = command.options.map((o) => o.long).filter((f): f is string => f !== undefined && f !== '--help');
      const missing = flags.filter((flag) => !new RegExp(`${flag}(?![a-z-])`).test(section as string));
      expect(missing).toEqual([]);
    },
  );

  it('lists every exit code the program gives', () => {
    const intro = reference.slice(0, reference.indexOf('\n## '));
    const missing = Object.values(ExitCode).filter((code) => !intro.includes(`\`${code}\``));
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

  it('docs/cli.md: `elexirion run` on the example, as a terminal shows it', async () => {
    const shown = blockAfter(reference, '## `elexirion run FILE`', 'text');
    const [command, ...lines] = shown.split('\n');
    expect(command).toBe('$ elexirion run examples/hello.yaml --mock --input name=Ada');
    const root = join(import.meta.dirname, '../..');
    const args = (command as string).replace('$ elexirion ', '').split(' ');
    const result = await runMain([...args, '--db', ':memory:'], { cwd: root });
    expect(result.code).toBe(0);
    // On a terminal a step's start line is redrawn as its stop line; ids and times differ per run.
    const normalize = (text: string) =>
      text
        .split('\n')
        .filter((line) => !line.startsWith('▶ '))
        .join('\n')
        .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, 'RUN_ID')
        .replace(/\b\d+ms\b/g, 'Nms')
        .trimEnd();
    expect(normalize(result.stderr + result.stdout)).toBe(normalize(lines.join('\n')));
  });

  it('docs/cli.md: the fields `run --json` prints are the ones its row lists', async () => {
    const row = reference.split('\n').find((line) => line.startsWith('| `--json`')) as string;
    const root = join(import.meta.dirname, '../..');
    const result = await runMain(['run', 'examples/hello.yaml', '--mock', '--json', '--db', ':memory:'], { cwd: root });
    const printed = JSON.parse(result.stdout) as { steps: Record<string, unknown>[] };
    const fields = [...Object.keys(printed), ...Object.keys(printed.steps[0] as object)];
    expect(fields.filter((field) => !row.includes(`\`${field}\``))).toEqual([]);
  });

  it('docs/cli.md: `elexirion validate examples/*.yaml` prints the lines shown', async () => {
    const shown = blockAfter(reference, '## `elexirion validate FILE...`', 'text');
    const [command, ...lines] = shown.split('\n');
    expect(command).toBe('$ elexirion validate examples/*.yaml');
    const root = join(import.meta.dirname, '../..');
    const examples = readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => `examples/${f}`);
    const result = await runMain(['validate', ...examples], { cwd: root });
    expect(result.code).toBe(0);
    const printed = result.stdout.split('\n');
    const listed = lines.filter((line) => line !== '...');
    expect(listed.length).toBeGreaterThan(0);
    // The lines shown are the first lines printed, in order.
    expect(printed.slice(0, listed.length)).toEqual(listed);
  });

  it('docs/cli.md: `elexirion validate --json` has the documented fields', async () => {
    const documented = JSON.parse(blockAfter(reference, '`--json` prints the results on stdout instead', 'json')) as {
      files: Record<string, unknown>[];
    };
    writeFileSync(join(dir, 'hello.yaml'), readFileSync(join(import.meta.dirname, '../../examples/hello.yaml')));
    writeFileSync(join(dir, 'review.yaml'), 'name: review\nsteps:\n  - name: a\n    type: mock\n    promt: hi\n');
    const result = await runMain(['validate', '--json', 'hello.yaml', 'review.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    const printed = JSON.parse(result.stdout) as typeof documented;
    expect(Object.keys(printed)).toEqual(Object.keys(documented));
    expect(printed.files.map((f) => Object.keys(f))).toEqual(documented.files.map((f) => Object.keys(f)));
    const [ok, bad] = documented.files;
    expect(printed.files[0]).toMatchObject({ ...ok, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const diagnostics = (bad as { diagnostics: Record<string, unknown>[] }).diagnostics;
    expect(printed.files[1]).toMatchObject({
      ...bad,
      diagnostics: [{ ...diagnostics[0], line: 5, col: 5, path: 'steps[0].promt' }],
    });
  });

  it('docs/observability.md: `elexirion health --json` has the documented shape', async () => {
    const observability = readFileSync(join(import.meta.dirname, '../../docs/observability.md'), 'utf8');
    const documented = JSON.parse(blockAfter(observability, '`elexirion health [--json] [--db PATH]`', 'json'));
    const result = await runMain(['health', '--json', '--db', ':memory:'], { cwd: dir });
    const printed = JSON.parse(result.stdout);
    // The same keys at every level (for a list, those of its first element); values differ per machine.
    const shape = (value: unknown): unknown =>
      Array.isArray(value)
        ? [shape(value[0])]
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
          : typeof value;
    expect(shape(printed)).toEqual(shape(documented));
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
