import { describe, expect, it } from 'vitest';
import type { CachedCall } from '../../src/journal/call-cache.js';
import { CallCache, WRITE_BEHIND_MS } from '../../src/journal/call-cache.js';
import { answer, MemoryCallStore, request } from '../resilience/stub-provider.js';

function call(key: string, costUsd: number | null = 0.01): CachedCall {
  return {
    key,
    provider: 'stub',
    model: 'stub-model',
    request: request(key),
    response: answer(key),
    usage: answer().usage,
    costUsd,
  };
}

describe('CallCache', () => {
  it('answers a stored call and counts the hit and the cost it saved', async () => {
    const cache = new CallCache(new MemoryCallStore());
    expect(await cache.get('k')).toBeUndefined();
    await cache.put(call('k', 0.02));
    const hit = await cache.get('k');
    expect(hit?.response).toMatchObject({ text: 'k' });
    await cache.get('k');
    expect(cache.hits).toBe(2);
    expect(cache.misses).toBe(1);
    expect(cache.costSavedUsd).toBeCloseTo(0.04);
  });

  it('forgets calls older than the TTL, the reader’s or the writer’s', async () => {
    let now = 1_000_000;
    const cache = new CallCache(new MemoryCallStore(), { now: () => now });
    await cache.put(call('k'), 1000);
    now += 500;
    expect(await cache.get('k', 10_000)).toBeDefined();
    expect(await cache.get('k', 400)).toBeUndefined(); // the reader wants younger than 400 ms
    now += 600;
    expect(await cache.get('k', 10_000)).toBeUndefined(); // past the writer's expiry
  });

  it('bounds memory (LRU) and falls back to the journal for evicted entries', async () => {
    const store = new MemoryCallStore();
    const cache = new CallCache(store, { maxEntries: 2 });
    await cache.put(call('a'));
    await cache.put(call('b'));
    await cache.get('a'); // a is now the most recent
    await cache.put(call('c')); // evicts b
    await cache.flush(); // written behind: now b lives in the journal only
    expect(cache.size).toBe(2);
    const gets = store.gets;
    await cache.get('a');
    await cache.get('c');
    expect(store.gets).toBe(gets); // both from memory
    expect(await cache.get('b')).toBeDefined(); // from the journal
    expect(store.gets).toBe(gets + 1);
  });

  it('writes behind in batches, and answers from the batch before it is written', async () => {
    const store = new MemoryCallStore();
    const cache = new CallCache(store, { maxEntries: 1 });
    await cache.put(call('x'));
    await cache.put(call('y')); // evicts x from memory before any write
    expect(await store.getCall('x', Date.now())).toBeUndefined();
    expect(await cache.get('x')).toBeDefined(); // from the pending batch
    await cache.flush();
    expect(await store.getCall('x', Date.now())).toBeDefined();
    expect(await store.getCall('y', Date.now())).toBeDefined();
  });

  it('flushes on its own shortly after, not with every call', async () => {
    const store = new MemoryCallStore();
    const cache = new CallCache(store);
    await cache.put(call('later'));
    await cache.put(call('later2'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.getCall('later', Date.now())).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, WRITE_BEHIND_MS + 20));
    expect(await store.getCall('later', Date.now())).toBeDefined();
    expect(await store.getCall('later2', Date.now())).toBeDefined();
  });

  it('works in memory alone when there is no journal', async () => {
    const cache = new CallCache(undefined);
    await cache.put(call('k'));
    expect(await cache.get('k')).toBeDefined();
  });

  it('an unpriced call saves nothing countable', async () => {
    const cache = new CallCache();
    await cache.put(call('k', null));
    await cache.get('k');
    expect(cache.costSavedUsd).toBe(0);
  });
});
