// A run whose handle's result nobody asks for (the HTTP API answers 202 and moves on) and whose end
// cannot be read back — the journal refuses writes and reads (a full disk): the failure stays the
// run's, journaled or not. It used to reject the handle's eager `result` promise with nobody
// listening: an unhandled rejection, which ends a Node process (the whole server with every run).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { newEngine, pipelineFile, tempDir } from './harness.js';

class FullDiskStore extends SqliteStore {
  full = false;
  private refuse(): void {
    if (this.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  }
  override async updateRun(...args: Parameters<SqliteStore['updateRun']>): Promise<void> {
    this.refuse();
    return super.updateRun(...args);
  }
  override async getRun(...args: Parameters<SqliteStore['getRun']>) {
    this.refuse();
    return super.getRun(...args);
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('a run whose result nobody reads', () => {
  it('does not leave an unhandled rejection when its end cannot be journaled nor read', async () => {
    process.on('unhandledRejection', onUnhandled);
    const store = new FullDiskStore(join(tempDir(), 'journal.db'));
    const engine = newEngine({ store });
    const { load } = pipelineFile('name: full\nsteps:\n  - { name: a, type: mock, prompt: a, latency: 50ms }\n');
    const handle = await engine.start(load(), { mock: true });
    store.full = true; // the disk fills while the run is on its step
    await engine.drain();
    // Unhandled rejections are reported after the microtask queue drains: give them two turns.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
    // Whoever does ask still learns the failure.
    await expect(handle.result).rejects.toThrow(/disk is full/);
    store.full = false;
    await store.close();
  });
});
