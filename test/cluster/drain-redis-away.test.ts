// SIGTERM to a worker whose Redis is down: the drain cannot hand its jobs back, and every Redis
// command (BullMQ's close, the heartbeat's DEL, QUIT) waits for a reconnection. It used to wait
// forever — until the orchestrator's SIGKILL. Now it waits a few seconds for Redis, then closes its
// connections and exits 0; the run it interrupted is journaled `interrupted`, resumable, and its job
// is found stalled once Redis is back. Needs `npm run build` (spawns bin/elexirion.js).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { type ClusterHarness, clusterHarness, runCli } from './harness.js';
import { type OwnRedis, ownRedis } from './own-redis.js';

/** The drain waits 3 s for Redis (DRAIN_REDIS_WAIT_MS), then closes without it. */
const EXITS_WITHIN_MS = 8_000;

let h: ClusterHarness | undefined;
let redis: OwnRedis | undefined;
afterEach(async () => {
  await h?.cleanup();
  await redis?.stop();
  h = undefined;
  redis = undefined;
});

describe('a worker drained while Redis is down', () => {
  it('exits 0 within a few seconds, its run interrupted', async () => {
    h = await clusterHarness();
    redis = await ownRedis(h.dir);
    const env = { ...h.env, ELEXIRION_REDIS: redis.url };
    const worker = await h.startWorker(env, ['--concurrency', '1']);
    const file = h.write(
      'slow.yaml',
      'name: slow\nsteps:\n  - name: slow\n    type: mock\n    prompt: "slow"\n    latency: 30s\n',
    );
    const follower = runCli(['run', file, '--cluster'], env);
    const reader = new PostgresStore(h.db);
    try {
      let runId = '';
      for (let i = 0; i < 200 && runId === ''; i++) {
        const [r] = await reader.listRuns({ limit: 1 });
        if (r && worker.stderr().includes(`run ${r.id} taken`)) runId = r.id;
        else await sleep(50);
      }
      expect(runId, worker.stderr()).not.toBe('');
      follower.child.kill('SIGKILL');
      await redis.stop();
      await sleep(300); // the worker sees its connections close
      const t0 = Date.now();
      worker.child.kill('SIGTERM');
      const code = await Promise.race([worker.exited, sleep(EXITS_WITHIN_MS).then(() => 'still running')]);
      const took = Date.now() - t0;
      expect(code, worker.stderr()).toBe(0);
      expect(took, worker.stderr()).toBeLessThan(EXITS_WITHIN_MS);
      expect(worker.stderr()).toContain('closing without it');
      expect((await reader.getRun(runId))?.status).toBe('interrupted');
    } finally {
      follower.child.kill('SIGKILL');
      await reader.close();
    }
  }, 40_000);
});
