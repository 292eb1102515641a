// Two processes opening a fresh (or older) SQLite journal at the same moment: one migrates, the
// other waits for it and finds nothing left to do (src/journal/sqlite-store.ts, migrateSync).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../src/journal/sqlite-migrations.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { sampleRun } from './store-conformance.js';

describe('opening a journal another process is migrating', () => {
  it('waits for its migration instead of running it a second time', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'elexirion-open-race-')), 'journal.db');
    // The moment both processes met: the version table made, no migration committed yet.
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    raw.close();
    const other = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'migrating-child.ts'), path, '800'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((done) => other.on('exit', done));
    await new Promise((held) => other.stdout.once('data', held));

    const store = new SqliteStore(path); // reads version 0, then waits on the other's lock
    const run = sampleRun();
    await store.createRun(run);
    expect((await store.getRun(run.id))?.id).toBe(run.id);
    await store.close();
    await exited;
    const versions = new Database(path, { readonly: true });
    expect(versions.prepare('SELECT count(*) AS n FROM schema_version').get()).toEqual({ n: SQLITE_MIGRATIONS.length });
    versions.close();
  }, 30_000);
});
