// A chunk of batch items delivered again: its worker journaled every item of it, then lost its lock
// before saying so (a stall: a frozen event loop, a Redis outage longer than a lock), and BullMQ
// handed the chunk out again. The second delivery finds the items done and runs none of them, and
// the chunk's first report is lost with the lock. The run's `calls` total must still count every
// item's call, once: the items keep their calls in the journal. And what the first delivery counted
// that the journal's item rows do not keep — retries, cache hits, savings — must still reach the
// batch step's details and the run's totals: they used to be lost with that report (the batch said
// 20 retries for 30 items that each retried once).
// In-process worker (ClusterWorker) on the machine's Redis and PostgreSQL; the lock is taken away
// by the test at the exact moment the first delivery has journaled its last item.
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { chunkJobId } from '../../src/cluster/item-queue.js';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import type { ClusterTiming } from '../../src/cluster/timing.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import type { ItemRecord, RunRecord, Store } from '../../src/journal/store.js';
import { batchPipeline, REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

/** Short locks: the chunk whose lock is taken away is found stalled, and delivered again, within a second. */
const TIMING: ClusterTiming = { ...FAST_TIMING, lockMs: 400, stalledIntervalMs: 400, heartbeatMs: 100 };
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

/** Each item's first call fails (retryable), its retry succeeds: one retry per item. */
const RETRIED_ONCE = [
  '      type: mock',
  '      prompt: "item {{ index }}"',
  '      fail_first: 1',
  '      retry: { max_attempts: 2, base_delay: 1ms, max_delay: 1ms }',
].join('\n');

interface Redelivered {
  store: Store;
  runId: string;
  finished: RunRecord;
  /** The first chunk's job, as BullMQ ended it. */
  first: Job | undefined;
  /** The chunks' stats ledgers left in Redis once the run has ended. */
  ledgers: string[];
}

/** Runs `pipeline` (a batch `fan` of ITEMS items) on a worker whose first chunk loses its lock once. */
async function runWithFirstChunkRedelivered(pipeline: string): Promise<Redelivered> {
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
    timing: TIMING,
  });
  cleanups.push(() => worker.drain());
  await worker.start();

  const runs = new ClusterRuns(config, store);
  cleanups.push(() => runs.close());
  const runId = await runs.submit(loadPipelineFromString(pipeline, 'batch.yaml'), {});
  const finished = await until('the run to end', async () => {
    const run = await store.getRun(runId);
    return run && run.status !== 'running' ? run : undefined;
  });
  const items = new Queue('items', { connection: redis, prefix: harness.prefix });
  cleanups.push(() => items.close());
  const first = await items.getJob(chunkJobId(runId, 'fan', 0, 0));
  return { store, runId, finished, first, ledgers: await redis.keys(`${harness.prefix}:chunk-stats:*`) };
}

describe('a chunk of items delivered again after its worker lost the lock', () => {
  it("counts every item's call in the run's totals, the items the first delivery ran included", async () => {
    const { store, runId, finished, first } = await runWithFirstChunkRedelivered(
      batchPipeline(ITEMS, { latency: '10ms' }),
    );
    expect(finished.status, finished.error).toBe('succeeded');

    // The first chunk was delivered twice: its first delivery's completion was refused (no lock),
    // and the stalled job was taken again.
    expect(await first?.getState()).toBe('completed');
    expect(first?.attemptsStarted).toBe(2);
    // Its last delivery found the items done, and reports their calls all the same (chunk-stats.ts).
    expect(first?.returnvalue.calls).toBe(CHUNK);

    // Each item was called once, and is counted once: `prep` and the thirty items.
    expect(finished.totals.calls).toBe(1 + ITEMS);
    const journaled = await store.getItems(runId, 'fan');
    expect(journaled.map((i) => i.calls)).toEqual(Array.from({ length: ITEMS }, () => 1));
    const fan = (await store.getSteps(runId)).find((s) => s.key === 'fan');
    expect(fan?.details).toMatchObject({ items: ITEMS, calls: ITEMS });
  }, 60_000);

  it("keeps the first delivery's retries in the batch step's details and the run's totals", async () => {
    // One item at a time per chunk: the items' first calls never fail together often enough to
    // open the mock's breaker.
    const { store, runId, finished, first, ledgers } = await runWithFirstChunkRedelivered(
      batchPipeline(ITEMS, { step: RETRIED_ONCE, maxParallel: 1 }),
    );
    expect(finished.status, finished.error).toBe('succeeded');
    expect(first?.attemptsStarted).toBe(2);
    expect(first?.returnvalue.retries).toBe(CHUNK);

    // As `runs show` reads them: the step's row, and the run's totals (one retry per item).
    const fan = (await store.getSteps(runId)).find((s) => s.key === 'fan');
    expect(fan?.details).toMatchObject({ items: ITEMS, calls: ITEMS, retries: ITEMS });
    expect(finished.totals).toMatchObject({ calls: 1 + ITEMS, retries: ITEMS });
    expect(ledgers).toEqual([]); // forgotten once the batch's parent added the chunks' reports up
  }, 60_000);
});
