// A Ctrl-C in the first moments of the process — while Node loads the CLI, before any command has
// installed its handler — met Node's default action: the process died of SIGINT, printing nothing,
// and `run --json` left stdout empty although it promises one JSON document whatever happens. The
// launcher now handles the signal from the start: exit 130, a line on stderr, and with --json the
// interrupted document (no run id: no run was created).
// Spawns the real binary (bin/elexirion.js runs dist/: `npm run build` first). The Ctrl-C comes at a
// known moment, with no timing: a module hook (node --import) sends SIGINT to the process when the
// CLI's main module is resolved.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/elexirion.js');

const HOOKS = `
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.endsWith('/dist/cli/main.js')) process.kill(process.pid, 'SIGINT');
  return result;
}
`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-ctrl-c-loading-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, 'name: p\nsteps:\n  - { name: one, type: mock, prompt: a }\n');
  const preload = join(dir, 'ctrl-c-at-load.mjs');
  writeFileSync(
    preload,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});\n`,
  );
  return { file, db: join(dir, 'j.db'), preload };
}

async function spawnCli(preload: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, bin, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  return { code, signal, stdout, stderr };
}

describe('Ctrl-C while the CLI is still loading', () => {
  it('run --json: exit 130 and the interrupted document on stdout, with no run id; no run created', async () => {
    const { file, db, preload } = setup();
    const out = await spawnCli(preload, ['run', file, '--mock', '--json', '--db', db]);
    expect(out.signal).toBeNull(); // was: killed by SIGINT, stdout empty
    expect(out.code).toBe(130);
    const document = JSON.parse(out.stdout);
    expect(document).toMatchObject({ status: 'interrupted', exit_code: 130 });
    expect(document.run_id).toBeUndefined();
    expect(out.stderr).toMatch(/SIGINT: stopped before anything was started; nothing was run/);
    expect(existsSync(db)).toBe(false);
  });

  it('without --json: exit 130 and a line on stderr, stdout empty', async () => {
    const { file, db, preload } = setup();
    const out = await spawnCli(preload, ['run', file, '--mock', '--db', db]);
    expect(out.code).toBe(130);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/SIGINT: stopped before anything was started/);
  });
});
