// A journal database deleted (or replaced) under a process that still writes to it: the logs of
// that live process are not taken for a dead one's by whoever opens the new database, so every
// write it resolved is still found after it is killed (src/journal/journal-logs.ts, isGone).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';

describe('a journal database replaced under a live process', () => {
  it("keeps the live process's log, so its later writes survive its kill", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'elexirion-replaced-')), 'journal.db');
    const runId = 'replaced-run';
    const writer = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'replaced-journal-writer.ts'), path, runId],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((done) => writer.on('exit', done));
    const said = (word: string) =>
      new Promise<void>((done) => {
        let out = '';
        const hear = (chunk: Buffer) => {
          out += chunk.toString();
          if (out.split('\n').includes(word)) {
            writer.stdout.off('data', hear);
            done();
          }
        };
        writer.stdout.on('data', hear);
      });
    try {
      await said('a');
      for (const file of ['', '-wal', '-shm']) rmSync(`${path}${file}`, { force: true });
      // A new database at the same path: its journal_logs knows nothing of the writer's log.
      const fresh = new SqliteStore(path);
      expect((await fresh.getSteps(runId)).map((s) => s.key)).toEqual(['a']);
      await fresh.close();
      expect(readdirSync(`${path}-log`)).toHaveLength(1); // its owner lives: kept

      const wroteB = said('b');
      writer.stdin.write('go\n');
      await wroteB;
    } finally {
      writer.kill('SIGKILL');
      await exited;
    }
    const after = new SqliteStore(path);
    expect((await after.getSteps(runId)).map((s) => s.key)).toEqual(['a', 'b']);
    await after.close();
    expect(readdirSync(`${path}-log`)).toEqual([]); // its owner is gone now
  }, 30_000);
});
