// Most calls of a run are new: the call cache answers such a miss at once from what it knows
// (its memory, its writes waiting, the journal's key filter) instead of asking the journal through
// promises — and never at the price of a record the journal does have.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CachedCall } from '../../src/journal/call-cache.js';
import { CallCache } from '../../src/journal/call-cache.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { answer, request } from '../resilience/stub-provider.js';

const call = (key: string): CachedCall => ({
  key,
  provider: 'stub',
  model: 'stub-model',
  request: request(key),
  response: answer(key),
  usage: answer().usage,
  costUsd: 0.01,
});

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const journal = () => {
  const dir = mkdtempSync(join(tmpdir(), 'elexirion-certain-miss-'));
  dirs.push(dir);
  return join(dir, 'journal.db');
};

describe('CallCache.certainMiss', () => {
  it('answers a new key without reading the journal, and counts it as a miss', async () => {
    const store = new SqliteStore(journal());
    try {
      const read = vi.spyOn(store, 'getCall');
      const cache = new CallCache(store);
      expect(cache.certainMiss('never-seen')).toBe(true);
      expect(cache.misses).toBe(1);
      expect(read).not.toHaveBeenCalled();
    } finally {
      await store.close();
    }
  });

  it('leaves to get a key in memory, waiting to be written, or in the journal', async () => {
    const path = journal();
    const earlier = new SqliteStore(path);
    await earlier.putCall({ ...call('journaled'), createdAt: Date.now(), expiresAt: null });
    await earlier.close();
    const store = new SqliteStore(path);
    try {
      const cache = new CallCache(store);
      // The journal's key filter has it: never "certain", whatever the memory says.
      expect(cache.certainMiss('journaled')).toBe(false);
      expect((await cache.get('journaled'))?.response).toMatchObject({ text: 'journaled' });
      await cache.put(call('fresh'));
      expect(cache.certainMiss('fresh')).toBe(false);
      expect(cache.misses).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('is never certain when the journal cannot answer: get asks it, and its caller reports why', () => {
    const cache = new CallCache({
      getCall: async () => undefined,
      putCall: async () => {},
      mayHaveCall: () => {
        throw new Error('SQLITE_IOERR: disk I/O error');
      },
    });
    expect(cache.certainMiss('k')).toBe(false);
    expect(cache.misses).toBe(0);
  });
});
