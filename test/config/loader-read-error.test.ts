// A file that stat calls a file but that cannot be read (no permission, an I/O error) is the user's
// to fix: a positioned problem and exit 2 — not "internal error … this is a bug", exit 70. Tests
// run as root, where chmod 000 reads fine, so the read itself is made to fail.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadPipeline } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';
import { runMain } from '../cli/run-main.js';

const unreadable = new Map<string, string>();

vi.mock('node:fs/promises', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...original,
    readFile: async (path: unknown, ...rest: unknown[]) => {
      const code = unreadable.get(String(path));
      if (code !== undefined) throw Object.assign(new Error(`${code}: simulated, open '${String(path)}'`), { code });
      return (original.readFile as (...args: unknown[]) => Promise<unknown>)(path, ...rest);
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'elexirion-unreadable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function unreadableFile(name: string, code: string): string {
  const file = join(dir, name);
  writeFileSync(file, 'name: p\nsteps:\n  - { name: a, type: mock, prompt: hi }\n');
  unreadable.set(file, code);
  return file;
}

describe('a pipeline file that cannot be read', () => {
  it('is a ConfigError at 1:1 naming the cause', async () => {
    const file = unreadableFile('denied.yaml', 'EACCES');
    const error = await loadPipeline(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).diagnostics).toEqual([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: 'cannot read the file (EACCES)',
        hint: 'check the permissions of the file',
      },
    ]);
  });

  it('validate and run exit 2 with the problem, not 70 with "internal error"', async () => {
    unreadableFile('io.yaml', 'EIO');
    const validate = await runMain(['validate', 'io.yaml'], { cwd: dir });
    expect(validate.stderr).toContain('io.yaml:1:1: cannot read the file (EIO)');
    expect(validate.stderr).not.toContain('internal error');
    expect(validate.code).toBe(2);
    const run = await runMain(['run', 'io.yaml', '--mock', '--db', ':memory:'], { cwd: dir });
    expect(run.stderr).toContain('io.yaml:1:1: cannot read the file (EIO)');
    expect(run.code).toBe(2);
  });
});
