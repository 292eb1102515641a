// The SQLite journal answers a cache miss from memory (sqlite-call-keys.ts): these tests hold it to
// never losing a call record — its own, one that was there before it opened, or another process's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECK_EVERY_MS } from '../../src/journal/sqlite-call-keys.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { CallRecord } from '../../src/journal/store.js';

const record = (key: string, createdAt = Date.now()): CallRecord => ({
  key,
  provider: 'mock',
  model: 'mock-1',
  request: { provider: 'mock', model: 'mock-1', messages: [{ role: 'user', content: key }] },
  response: { text: key },
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: 0,
  createdAt,
  expiresAt: null,
});

let dir: string;
const stores: SqliteStore[] = [];
const open = () => {
  const store = new SqliteStore(join(dir, 'journal.db'));
  stores.push(store);
  return store;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'elexirion-call-keys-'));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore call lookups', () => {
  it('finds the records the journal held when it was opened, and its own new ones', async () => {
    const first = open();
    await first.putCalls([record('old-1'), record('old-2')]);
    await first.close();
    const store = open();
    expect((await store.getCall('old-1', Date.now()))?.response).toEqual({ text: 'old-1' });
    expect(await store.getCall('missing', Date.now())).toBeUndefined();
    await store.putCall(record('new-1'));
    expect((await store.getCall('new-1', Date.now()))?.key).toBe('new-1');
  });

  it('keeps finding every record after it has grown past its first size', async () => {
    const store = open();
    expect(await store.getCall('k-0', Date.now())).toBeUndefined(); // the filter is built (empty) here
    const keys = Array.from({ length: 12_000 }, (_, i) => `k-${i}`);
    for (let i = 0; i < keys.length; i += 1000) await store.putCalls(keys.slice(i, i + 1000).map((k) => record(k)));
    for (const key of keys) expect(await store.getCall(key, Date.now()), key).toBeDefined();
  });

  it('answers from SQLite until a journal with many records is worth scanning, and the same after', async () => {
    const first = open();
    const keys = Array.from({ length: 600 }, (_, i) => `big-${i}`);
    await first.putCalls(keys.map((k) => record(k)));
    await first.close();
    const store = open();
    // 600 records: the first ~120 lookups are SQLite reads, the later ones go through the filter.
    for (let round = 0; round < 3; round++) {
      for (const key of keys.slice(round * 100, round * 100 + 100)) {
        expect((await store.getCall(key, Date.now()))?.key, key).toBe(key);
        expect(await store.getCall(`${key}-missing`, Date.now())).toBeUndefined();
      }
    }
  });

  it('sees a record another process wrote, within its check period', async () => {
    const reader = open();
    const writer = open();
    expect(await reader.getCall('theirs', Date.now())).toBeUndefined();
    await writer.putCall(record('theirs'));
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS + 20));
    expect((await reader.getCall('theirs', Date.now()))?.response).toEqual({ text: 'theirs' });
  });

  it('sees a record another process committed long after making it (a writer that stalled)', async () => {
    const reader = open();
    const writer = open();
    expect(await reader.getCall('late', Date.now())).toBeUndefined(); // the reader's filter is built here
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS + 20));
    expect(await reader.getCall('still-missing', Date.now())).toBeUndefined(); // and caught up once
    // Made a minute ago, committed now: new to the journal all the same.
    await writer.putCall({ ...record('late', Date.now() - 60_000), expiresAt: null });
    await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS + 20));
    expect((await reader.getCall('late', Date.now()))?.response).toEqual({ text: 'late' });
  });
});
