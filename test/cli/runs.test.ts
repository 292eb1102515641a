// `elexirion runs` and `runs show`: the flags work wherever they are written, and a reader that
// stops reading early ends the listing quietly.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const example = join(import.meta.dirname, '../../examples/hello.yaml');

describe('elexirion runs show', () => {
  it('prints JSON with --json before or after the run id', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    const run = await runMain(['run', example, '--mock', '--json', '--db', db], { env });
    expect(run.code, run.stderr).toBe(0);
    const id = JSON.parse(run.stdout).run_id as string;
    for (const args of [
      ['runs', 'show', id, '--json', '--db', db],
      ['runs', 'show', '--json', id, '--db', db],
      ['runs', '--json', 'show', id, '--db', db],
    ]) {
      const shown = await runMain(args, { env });
      expect(shown.code, shown.stderr).toBe(0);
      const parsed = JSON.parse(shown.stdout);
      expect(parsed.run_id, args.join(' ')).toBe(id);
      expect(parsed.status).toBe('succeeded');
    }
    const table = await runMain(['runs', 'show', id, '--db', db], { env });
    expect(table.stdout).toMatch(/succeeded/);
    expect(() => JSON.parse(table.stdout)).toThrow();
  });

  it('a reader that closes the pipe (`| head -1`) ends the listing quietly, no stack trace', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'elexirion-runs-')), 'j.db');
    const env = { NO_COLOR: '1' };
    for (let i = 0; i < 3; i++) expect((await runMain(['run', example, '--mock', '--db', db], { env })).code).toBe(0);
    const bin = join(import.meta.dirname, '../../bin/elexirion.js');
    const child = spawn(process.execPath, [bin, 'runs', '--db', db], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    // As `head` does once it has its lines, but before the first one: every write meets a closed pipe.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
