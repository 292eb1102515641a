// `serve --root` must name a directory: one that does not exist, or a file, is a usage mistake
// refused at start (exit 2, the path named, what to do) — not a server that lists no pipelines and
// answers every POST /runs with 422.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, runMain } from '../cli/run-main.js';

/** `serve` with `args`; one still serving after 5 s (the old behaviour) is reported as such. */
async function serve(args: string[], cwd?: string): Promise<CliResult | 'still serving'> {
  return Promise.race([
    runMain(['serve', '--port', '0', '--db', ':memory:', ...args], {
      env: { NO_COLOR: '1', ELEXIRION_LOG_LEVEL: 'silent' },
      ...(cwd === undefined ? {} : { cwd }),
    }),
    new Promise<'still serving'>((resolve) => setTimeout(() => resolve('still serving'), 5_000).unref()),
  ]);
}

describe('serve --root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-serve-root-'));
  const file = join(dir, 'serve.db');
  writeFileSync(file, '');

  it('refuses a directory that does not exist: exit 2 before listening, the path and what to do', async () => {
    const missing = join(dir, 'nonexistent');
    const result = await serve(['--root', missing]);
    expect(result).not.toBe('still serving');
    const { code, stdout, stderr } = result as CliResult;
    expect(code).toBe(2);
    expect(stdout).not.toContain('listening');
    expect(stderr).toContain(`--root ${missing}: no such directory`);
    expect(stderr).toMatch(/hint: create it, or give the directory the pipelines are in/);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
  }, 15_000);

  it('refuses a file, naming it as given and where it resolves', async () => {
    const result = await serve(['--root', 'serve.db'], dir);
    expect(result).not.toBe('still serving');
    const { code, stdout, stderr } = result as CliResult;
    expect(code).toBe(2);
    expect(stdout).not.toContain('listening');
    expect(stderr).toContain(`--root serve.db (${file}) is not a directory`);
    expect(stderr).toContain('hint: give the directory the pipelines are in');
  }, 15_000);
});
