// The journal's apply thread (src/journal/apply-thread.ts): a file journal's waiting writes reach the
// tables through another connection on another thread, in log order, exactly once; a read waits for
// the batch in the thread's hands; a batch the thread cannot apply comes back to the event loop.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore, type SqliteStoreOptions } from '../../src/journal/sqlite-store.js';
import type { ItemRecord } from '../../src/journal/store.js';
import { count } from './raw-count.js';
import { sampleRun, sampleStep } from './store-conformance.js';

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'elexirion-apply-thread-')), 'journal.db');

/** Rows the store's own connection (the event loop's) has written since it opened. */
function changedByEventLoop(store: SqliteStore): number {
  const db = (store as unknown as { db: Database.Database }).db;
  return (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const item = (runId: string, idx: number): ItemRecord => ({
  runId,
  stepKey: 'batch',
  index: idx,
  status: 'succeeded',
  output: `item ${idx}`,
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: null,
  attempts: 1,
  durationMs: 1,
});

/**
 * A journal with one run whose lane to the thread is ready: a write reached the tables without the
 * event loop's connection changing anything (the thread starts in the background, slower under
 * load and through tsx: until then the event loop applies).
 */
async function journalWithThread(options: SqliteStoreOptions = {}) {
  const path = tempDb();
  const store = new SqliteStore(path, options);
  const run = sampleRun();
  await store.createRun(run);
  await until(() => count(path, 'runs') === 1, 'the run row');
  for (let probe = 0; ; probe++) {
    const before = changedByEventLoop(store);
    await store.commitStep(sampleStep(run.id, `probe-${probe}`));
    await until(() => count(path, 'steps') === probe + 1, 'a probe step');
    if (changedByEventLoop(store) === before) return { path, store, run, before, steps: probe + 1 };
    if (probe === 100) throw new Error('the apply thread never took a write');
  }
}

describe('apply thread', () => {
  it('applies the waiting writes on its own connection, not the event loop’s', async () => {
    const { path, store, run, before } = await journalWithThread();
    await store.commitItems(Array.from({ length: 600 }, (_, i) => item(run.id, i)));
    await until(() => count(path, 'items') === 600, 'the items');
    expect(changedByEventLoop(store)).toBe(before);
    await store.close();
  });

  it('a read right after a write waits for the batch in the thread’s hands and sees every write', async () => {
    const { store, run } = await journalWithThread();
    for (let round = 0; round < 3; round++) {
      // Handed over at once (more rows than a batch waits for), and enough that the thread takes
      // milliseconds over them: a read that did not wait would overtake it.
      await store.commitItems(Array.from({ length: 3000 }, (_, i) => item(run.id, round * 3000 + i)));
      expect(await store.countItems(run.id, 'batch')).toEqual({ succeeded: (round + 1) * 3000, failed: 0, stopped: 0 });
    }
    await store.close();
  });

  it('keeps log order across batches: a later write of the same row wins', async () => {
    const { store, run } = await journalWithThread();
    for (let version = 0; version < 4; version++) {
      await store.commitItems(
        Array.from({ length: 3000 }, (_, i) => ({ ...item(run.id, i), output: `v${version} of ${i}` })),
      );
    }
    const items = await store.getItems(run.id, 'batch');
    expect(items).toHaveLength(3000);
    expect(new Set(items.map((i) => String(i.output).split(' ')[0]))).toEqual(new Set(['v3']));
    await store.close();
  });

  it('a batch the thread cannot apply comes back: the bad write is passed over and reported, its neighbours land', async () => {
    const { path, store, run, before, steps } = await journalWithThread();
    await store.commitStep(sampleStep('no-such-run', 'x')); // the foreign key refuses it
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.commitStep(sampleStep(run.id, `s${i}`))));
    // The thread refused the whole batch (one transaction); the event loop applied it one by one.
    await until(() => count(path, 'steps') === steps + 300, 'the neighbours');
    expect(changedByEventLoop(store) - before).toBeGreaterThanOrEqual(300);
    await expect(store.getSteps(run.id)).rejects.toThrow(/FOREIGN KEY/);
    expect(await store.getSteps(run.id)).toHaveLength(steps + 300);
    await store.close();
  });

  it('close applies what the thread and the event loop hold, then removes the log and the WAL', async () => {
    const { path, store, run, steps } = await journalWithThread();
    await store.commitItems(Array.from({ length: 1000 }, (_, i) => item(run.id, i)));
    await store.commitStep(sampleStep(run.id, 'last'));
    await store.close();
    // The thread's connection closed first: the store's own was the last, and took the WAL with it
    // (before anything else opens the file: a reader would make a new one).
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(count(path, 'items')).toBe(1000);
    expect(count(path, 'steps')).toBe(steps + 1);
    expect(readdirSync(`${path}-log`)).toEqual([]);
  });

  it('off (applyThread: false): the event loop applies everything', async () => {
    const path = tempDb();
    const store = new SqliteStore(path, { applyThread: false });
    const before = changedByEventLoop(store);
    const run = sampleRun();
    await store.createRun(run);
    await store.commitItems(Array.from({ length: 600 }, (_, i) => item(run.id, i)));
    await until(() => count(path, 'items') === 600, 'the items');
    expect(changedByEventLoop(store) - before).toBeGreaterThanOrEqual(600);
    await store.close();
  });
});
