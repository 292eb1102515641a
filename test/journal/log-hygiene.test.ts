// The SQLite journal's write-ahead logs (src/journal/write-behind.ts, log-recovery.ts) in the
// situations a third review found wrong: a log directory that cannot be read, a clock that steps
// back, a locked database under a read or after a failed append, the logs' permissions, names
// registered and never used, a journal reached through a symlink, and writes handed to another
// process (publish).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppendLog } from '../../src/journal/append-log.js';
import { HOST_ID, newLogName } from '../../src/journal/journal-logs.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'elexirion-hygiene-')), 'journal.db');

function rows(path: string, sql: string): unknown[] {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare(sql).all();
  } finally {
    raw.close();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('write-ahead log hygiene', () => {
  it('a log directory that cannot be read fails the open with what to do, rather than passing for empty', async () => {
    const path = tempDb();
    await new SqliteStore(path).close();
    symlinkSync(`${path}-log`, `${path}-log`); // a loop: readdir fails with ELOOP, not ENOENT
    let failure: unknown;
    try {
      new SqliteStore(path);
    } catch (error) {
      failure = error;
    }
    expect((failure as Error).message).toMatch(/cannot read the journal's write-ahead logs in .*-log/);
    expect((failure as { exitCode?: number }).exitCode).toBe(69);
  });

  it("one thread's log names sort in the order they were made, whatever the clock does", () => {
    const now = vi.spyOn(Date, 'now');
    const made: string[] = [];
    for (const at of [2_000_000_000_000, 1_000_000_000_000, 1_500_000_000_000, 999]) {
      now.mockReturnValue(at);
      made.push(newLogName());
    }
    expect([...made].sort()).toEqual(made);
  });

  it('a read does not wait on a database another connection holds locked to apply other logs', async () => {
    const path = tempDb();
    const reader = new SqliteStore(path);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the reads' recovery period
    const writer = new SqliteStore(path);
    const run = sampleRun();
    await writer.createRun(run); // in the writer's log only
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    expect(await reader.listRuns()).toEqual([]); // not yet: the database is busy
    expect(performance.now() - started).toBeLessThan(1000); // not SQLite's 5 s busy timeout
    holder.exec('COMMIT');
    holder.close();
    expect((await reader.getRun(run.id))?.id).toBe(run.id); // asked by id: recovered at once
    await writer.close();
    await reader.close();
  });

  it('after a failed append the next write does not wait on a locked database to name its new log', async () => {
    const path = tempDb();
    const store = new SqliteStore(path);
    const run = sampleRun();
    await store.createRun(run);
    await store.getRun(run.id);
    const behind = (store as unknown as { behind: { log: AppendLog } }).behind;
    behind.log.append = () => {
      throw Object.assign(new Error('EFBIG: file too large'), { code: 'EFBIG' });
    };
    await expect(store.commitStep(sampleStep(run.id, 'lost'))).rejects.toThrow(/EFBIG/);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    await store.commitStep(sampleStep(run.id, 'a'));
    expect(performance.now() - started).toBeLessThan(1000);
    holder.exec('COMMIT');
    holder.close();
    expect((await store.getSteps(run.id)).map((s) => s.key)).toEqual(['a']);
    await store.close();
  });

  it("the logs get the database's permissions: what they hold is what its tables will", async () => {
    const path = tempDb();
    new Database(path).close();
    chmodSync(path, 0o600);
    const store = new SqliteStore(path);
    await store.createRun(sampleRun());
    const dir = `${path}-log`;
    const [log] = readdirSync(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, log as string)).mode & 0o777).toBe(0o600);
    await store.close();
  });

  it('forgets the names a dead process registered and never wrote', async () => {
    const path = tempDb();
    await new SqliteStore(path).close();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid; // a pid nobody holds any more
    const raw = new Database(path);
    raw
      .prepare('INSERT INTO journal_logs (name, applied, pid, host, created_at) VALUES (?, 0, ?, ?, 0)')
      .run(`${gone}-never-written.jsonl`, gone, HOST_ID);
    raw.close();
    const store = new SqliteStore(path);
    const names = rows(path, 'SELECT name FROM journal_logs') as Array<{ name: string }>;
    expect(names.map((r) => r.name)).not.toContain(`${gone}-never-written.jsonl`);
    expect(names).toHaveLength(1); // this store's own, registered ahead
    await store.close();
    expect(rows(path, 'SELECT name FROM journal_logs')).toEqual([]);
  });

  it('a journal reached through a symlink finds the logs a killed process left beside the real file', async () => {
    const path = tempDb();
    const runId = 'linked-run';
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'write-behind-child.ts'), path, runId],
      { encoding: 'utf8' },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const link = join(mkdtempSync(join(tmpdir(), 'elexirion-link-')), 'link.db');
    symlinkSync(path, link);
    const store = new SqliteStore(link);
    expect((await store.getSteps(runId)).map((s) => s.key)).toEqual(['a', 'b', 'c']);
    await store.close();
  });

  it('publish() makes every resolved write readable by another connection at once', async () => {
    const path = tempDb();
    const store = new SqliteStore(path);
    const run = sampleRun();
    await store.createRun(run);
    await store.commitStep(sampleStep(run.id, 'a'));
    expect(rows(path, 'SELECT id FROM runs')).toEqual([]); // behind: only in the log so far
    await store.publish();
    expect(rows(path, 'SELECT id FROM runs')).toEqual([{ id: run.id }]);
    expect(rows(path, 'SELECT key FROM steps')).toEqual([{ key: 'a' }]);
    await store.close();
  });
});
