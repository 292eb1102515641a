// Commands that read runs (`runs`, `runs show`, `resume`, `chain --resume`) on a journal that does
// not exist: a mistyped --db must say where it looked, not create an empty journal (and its
// directories) and answer "no run with id".
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const env = { NO_COLOR: '1' };

describe('a journal that is not there', () => {
  it.each([
    [['runs', 'show', '01M8HD2Z22HRR9D7EVZ97M1CHR']],
    [['resume', '01M8HD2Z22HRR9D7EVZ97M1CHR']],
    [['chain', '--resume', '01M8HD2Z22HRR9D7EVZ97M1CHR']],
  ])('%j: exit 2 naming the path, and nothing is created', async (args) => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-nojournal-'));
    const db = join(dir, 'typo', 'jornal.db');
    const result = await runMain([...args, '--db', db], { env, cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no journal at ${db}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  it('`runs` lists nothing and says where it looked; --json prints []', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-nojournal-'));
    const plain = await runMain(['runs'], { env, cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`no journal at ${join(dir, '.elexirion', 'elexirion.db')}`);
    const json = await runMain(['runs', '--json'], { env, cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual([]);
    expect(existsSync(join(dir, '.elexirion'))).toBe(false);
  });

  it.each([[['runs']], [['runs', 'show', '01M8HD2Z22HRR9D7EVZ97M1CHR']], [['run', 'hello.yaml', '--mock']]])(
    '%j on a file that is not a SQLite database: exit 69 (journal unavailable), no stack trace',
    async (args) => {
      const dir = mkdtempSync(join(tmpdir(), 'elexirion-nojournal-'));
      const db = join(dir, 'notes.txt');
      writeFileSync(db, 'not a database\n');
      writeFileSync(join(dir, 'hello.yaml'), 'name: hello\nsteps:\n  - { name: a, type: mock, prompt: hi }\n');
      const result = await runMain([...args, '--db', db], { env, cwd: dir });
      expect(result.code).toBe(69);
      expect(result.stderr).toContain(`cannot open the journal database ${db}: file is not a database`);
      expect(result.stderr).toContain('not an Elexirion journal');
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    },
  );

  it('an empty ELEXIRION_DB is unset: the default journal, not the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elexirion-nojournal-'));
    const run = await runMain(['run', join(import.meta.dirname, '../../examples/hello.yaml'), '--mock', '--json'], {
      env: { ...env, ELEXIRION_DB: '' },
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, '.elexirion', 'elexirion.db'))).toBe(true);
  });
});
