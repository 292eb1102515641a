// A Redis restart during a run does not lose it: a worker and `run --cluster` on a redis-server of
// the test's own (append-only), with two workers, stopped mid-batch for longer than a job lock lives, then started
// again from the same directory. The run completes and every item was answered once, but for at
// most those in flight at the restart. Needs `npm run build`.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { batchPipeline, type ClusterHarness, callsPerItem, clusterHarness, runCli } from './harness.js';
import { type OwnRedis, ownRedis } from './own-redis.js';

let h: ClusterHarness | undefined;
let redis: OwnRedis | undefined;
afterEach(async () => {
  await h?.cleanup();
  await redis?.stop();
  h = undefined;
  redis = undefined;
});

describe('Redis restart', () => {
  it('does not lose a run in progress, nor repeat its finished items', async () => {
    h = await clusterHarness();
    redis = await ownRedis(h.dir);
    const env = { ...h.env, ELEXIRION_REDIS: redis.url };
    await h.startWorker(env);
    await h.startWorker(env);
    const total = 300;
    const file = h.write('restart.yaml', batchPipeline(total, { latency: '100ms' }));
    const { done } = runCli(['run', file, '--cluster'], env);

    const reader = new PostgresStore(h.db);
    try {
      let runId: string | undefined;
      for (let i = 0; i < 400 && runId === undefined; i++) {
        await sleep(50);
        const [run] = await reader.listRuns({ limit: 1 });
        if (run && (await reader.countItems(run.id, 'fan')).succeeded >= 40) runId = run.id;
      }
      expect(runId, 'the batch never got going').toBeDefined();
      await redis.stop();
      // Mid-batch: items were still to come when Redis went away.
      expect((await reader.countItems(runId as string, 'fan')).succeeded).toBeLessThan(total);
      await sleep(1_500); // longer than a job lock lives (ELEXIRION_CLUSTER_LOCK_MS=1000)
      await redis.start();

      const run = await done;
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`count: ${total}`));
      expect((await reader.getRun(runId as string))?.status).toBe('succeeded');
      // The queue agrees: the run's job completed (once), it did not fail over its expired lock.
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      const runs = new Queue('runs', { connection, prefix: h.prefix });
      try {
        const job = await runs.getJob(runId as string);
        let state = await job?.getState();
        for (let i = 0; i < 50 && state === 'active'; i++) {
          await sleep(100);
          state = await job?.getState();
        }
        expect(state).toBe('completed');
      } finally {
        await runs.close();
        connection.disconnect();
      }
    } finally {
      await reader.close();
    }
    const counts = callsPerItem(readFileSync(h.callLog, 'utf8'));
    expect(counts.size).toBe(total);
    const repeated = [...counts.entries()].filter(([, n]) => n > 1);
    // At most the items in flight when Redis went away: 2 workers × 2 chunks × max_parallel 5.
    expect(repeated.length, JSON.stringify(repeated)).toBeLessThanOrEqual(20);
  }, 90_000);
});
