// A chunk of batch items delivered again: its worker journaled every item of it, then lost its lock
// before saying so (a stall: a frozen event loop, a Redis outage longer than a lock), and BullMQ
// handed the chunk out again. The second delivery finds the items done and runs none of them — so it
// reports no calls for them, and the chunk's first report is lost with the lock. The run's `calls`
// total must still count every item's call: the items keep their calls in the journal.
// In-process worker (ClusterWorker) on the machine's Redis and PostgreSQL; the lock is taken away
// by the test at the exact moment the first delivery has journaled its last item.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { chunkJobId } from '../../src/cluster/item-queue.js';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import type { ItemRecord, Store } from '../../src/journal/store.js';
import { batchPipeline, REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

const CHUNK = 10;
const ITEMS = 30;

/**
 * `store`, but once every item of the first chunk of `fan` is journaled, that chunk's lock in Redis
 * is gone — before the delivery that ran them can complete its job.
 */
function losingFirstChunkLock(store: Store, redis: Redis, prefix: string): Store {
  const journaled = new Set<number>();
  let lost = false;
  const commitItems = async (items: ItemRecord[]): Promise<void> => {
    await store.commitItems(items);
    for (const item of items) if (item.stepKey === 'fan' && item.index < CHUNK) journaled.add(item.index);
    const runId = items[0]?.runId;
    if (!lost && runId !== undefined && journaled.size === CHUNK) {
      lost = true;
      await redis.del(`${prefix}:items:${chunkJobId(runId, 'fan', 0, 0)}:lock`);
    }
  };
  return new Proxy(store, {
    get(target, key) {
      if (key === 'commitItems') return commitItems;
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('a chunk of items delivered again after its worker lost the lock', () => {
  it("counts every item's call in the run's totals, the items the first delivery ran included", async () => {
    const harness = await cluster.harness();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    cleanups.push(async () => redis.disconnect());
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const worker = new ClusterWorker({
      config,
      store: losingFirstChunkLock(store, redis, harness.prefix),
      env: process.env,
      concurrency: 1,
      itemConcurrency: 2,
      chunkSize: CHUNK,
      timing: FAST_TIMING,
    });
    cleanups.push(() => worker.drain());
    await worker.start();

    const runs = new ClusterRuns(config, store);
    cleanups.push(() => runs.close());
    const loaded = loadPipelineFromString(batchPipeline(ITEMS, { latency: '10ms' }), 'batch.yaml');
    const runId = await runs.submit(loaded, {});
    const finished = await until('the run to end', async () => {
      const run = await store.getRun(runId);
      return run && run.status !== 'running' ? run : undefined;
    });
    expect(finished.status, finished.error).toBe('succeeded');

    // The first chunk was delivered twice: its first delivery's completion was refused (no lock),
    // and the stalled job was taken again.
    const items = new Queue('items', { connection: redis, prefix: harness.prefix });
    cleanups.push(() => items.close());
    const first = await items.getJob(chunkJobId(runId, 'fan', 0, 0));
    expect(await first?.getState()).toBe('completed');
    expect(first?.attemptsStarted).toBe(2);
    expect(first?.returnvalue.calls).toBe(0); // all its last delivery reported: the items were done

    // Each item was called once, and is counted once: `prep` and the thirty items.
    expect(finished.totals.calls).toBe(1 + ITEMS);
    const journaled = await store.getItems(runId, 'fan');
    expect(journaled.map((i) => i.calls)).toEqual(Array.from({ length: ITEMS }, () => 1));
    const fan = (await store.getSteps(runId)).find((s) => s.key === 'fan');
    expect(fan?.details).toMatchObject({ items: ITEMS, calls: ITEMS });
  }, 60_000);
});
