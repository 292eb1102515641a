// A journal URL of a kind Elexirion does not speak (`--db mysql://…`, `ELEXIRION_DB=sqlite:///…`)
// is a usage mistake, exit 2, its password hidden — not a file path: taken as one, `run` made the
// directories `mysql:/USER:PASSWORD@HOST` and a journal in them, and `runs` printed the password
// in "no journal at …".
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'elexirion-db-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hello = join(import.meta.dirname, '..', '..', 'examples', 'hello.yaml');

describe('a --db URL that is not postgres://', () => {
  it('is refused by run before anything is created, without its password', async () => {
    const result = await runMain(['run', hello, '--mock', '--db', 'mysql://bob:s3cretpw@db.example/runs'], {
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the journal URL mysql://bob:***@db.example/runs is not one Elexirion can open');
    expect(result.stderr).toContain('hint: give a postgres:// URL, or the path of a SQLite file');
    expect(result.stderr).not.toContain('s3cretpw');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([['runs'], ['runs', 'show', '01JB8Z6Q3M2V4T5X7Y9A0BCDEF']])(
    'is refused by %s, from ELEXIRION_DB too, without its password',
    async (...args) => {
      const env = { NO_COLOR: '1', ELEXIRION_DB: 'redis://:s3cretpw@cache.example:6379' };
      const result = await runMain(args, { cwd: dir, env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('the journal URL redis://:***@cache.example:6379 is not one Elexirion can open');
      expect(result.stderr).not.toContain('s3cretpw');
    },
  );

  it('leaves SQLite paths and :memory: as they were', async () => {
    const result = await runMain(['run', hello, '--mock', '--db', 'journal.db'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, 'journal.db'))).toBe(true);
    expect((await runMain(['run', hello, '--mock', '--db', ':memory:'], { cwd: dir })).code).toBe(0);
  });
});
