// How a process starts its write-ahead log (src/journal/write-behind.ts ownLog, append-log.ts): the
// modes it gets whatever the umask, and what is left when starting it fails half-way.
import fs, { chmodSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'elexirion-log-start-')), 'journal.db');

describe("starting a process's write-ahead log", () => {
  it("gives the log and its directory the database's modes exactly, as SQLite its -wal, whatever the umask", async () => {
    const path = tempDb();
    new Database(path).close();
    chmodSync(path, 0o660); // a journal shared by a group
    const umask = process.umask(0o022);
    try {
      const store = new SqliteStore(path);
      const run = sampleRun();
      await store.createRun(run);
      await store.getRun(run.id); // applied: SQLite's -wal exists
      const dir = `${path}-log`;
      const [log] = readdirSync(dir);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o660);
      expect(statSync(join(dir, log as string)).mode & 0o777).toBe(0o660);
      expect(statSync(dir).mode & 0o777).toBe(0o770); // the group may start and remove logs in it
      await store.close();
    } finally {
      process.umask(umask);
    }
  });

  it('a directory that cannot be synced (durability full) leaves no log without its row behind', async () => {
    const path = tempDb();
    const store = new SqliteStore(path, { durability: 'full' });
    const run = sampleRun();
    // Some file systems refuse fsync on a directory (EINVAL): the first log cannot be started.
    const fsyncSync = fs.fsyncSync;
    fs.fsyncSync = () => {
      throw Object.assign(new Error('EINVAL: invalid argument, fsync'), { code: 'EINVAL' });
    };
    syncBuiltinESMExports();
    try {
      await expect(store.createRun(run)).rejects.toThrow(/cannot create the journal's write-ahead log/);
    } finally {
      fs.fsyncSync = fsyncSync;
      syncBuiltinESMExports();
    }
    await store.createRun(run);
    await store.commitStep(sampleStep(run.id, 'a'), [
      { runId: run.id, seq: 1, type: 'pipeline.step.stop', at: 1, data: { runId: run.id } },
    ]);
    // Another process opening the journal now applies what this one logged; the log it writes to
    // must not pass for a dead process's (removed, its next writes lost with this process).
    const other = new SqliteStore(path);
    expect((await other.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    await other.close();
    const logs = readdirSync(`${path}-log`);
    expect(logs).toHaveLength(1);
    // The owner then applies nothing twice (a second insert of the run would be refused).
    expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    expect((await store.getEvents(run.id)).map((e) => e.seq)).toEqual([1]);
    await store.close();
    expect(readdirSync(`${path}-log`)).toEqual([]);
  });
});
