// Draining a worker (SIGTERM) that has just been handed a run or a chunk it has not started yet: a
// job taken over from another worker waits until no live worker lists it (job-ownership.ts), and a
// drain that comes meanwhile must hand the job back, not start the run once the wait is over (and
// then keep the drain waiting for the whole run). In-process workers (ClusterWorker) on the
// machine's Redis and PostgreSQL, with a database and a queue prefix of the test's own.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { workerKey } from '../../src/cluster/heartbeat.js';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import type { ClusterTiming } from '../../src/cluster/timing.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { type ClusterHarness, clusterHarness, REDIS_URL } from './harness.js';

const TIMING: ClusterTiming = {
  lockMs: 1_000,
  stalledIntervalMs: 1_000,
  heartbeatMs: 300,
  leaseMs: 3_000,
  rateWindowMs: 60_000,
};

let h: ClusterHarness | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await h?.cleanup();
  h = undefined;
});

function serial(steps: number, latency: string): string {
  const lines = ['name: serial', 'steps:'];
  for (let i = 1; i <= steps; i++)
    lines.push(`  - name: s${i}`, '    type: mock', `    prompt: "s${i}"`, `    latency: ${latency}`);
  return `${lines.join('\n')}\n`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  for (let t = 0; t < ms; t += 50) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a worker drained before it starts a job it was handed', () => {
  it('hands a run taken over from another worker back to the queue instead of running it', async () => {
    h = await clusterHarness();
    const harness = h;
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const redis = new Redis(REDIS_URL);
    cleanups.push(async () => redis.disconnect());
    const queue = new Queue('runs', { connection: redis, prefix: harness.prefix });
    cleanups.push(() => queue.close());
    const newWorker = () => {
      const worker = new ClusterWorker({ config, store, env: process.env, concurrency: 1, timing: TIMING });
      cleanups.push(() => worker.drain());
      return worker;
    };

    const runs = new ClusterRuns(config, store);
    cleanups.push(() => runs.close());
    const runId = await runs.submit(loadPipelineFromString(serial(6, '150ms'), 'serial.yaml'), {});

    // A first worker takes the run, then drains: the run is interrupted and its job goes back.
    const first = newWorker();
    await first.start();
    await until('the first worker to run it', async () => (await store.getSteps(runId)).length >= 1);
    await first.drain();
    expect((await store.getRun(runId))?.status).toBe('interrupted');
    const claimsBefore = Number((await store.getRun(runId))?.metadata.resumes);

    // Another live worker still lists the run (after a Redis outage, say): whoever takes the job
    // waits while it does.
    await redis.set(
      workerKey(harness.prefix, 'elsewhere:1'),
      JSON.stringify({ id: 'elsewhere:1', holds: [runId] }),
      'PX',
      3_000,
    );
    const second = newWorker();
    await second.start();
    await until('the second worker to take the job', async () => (await queue.getJobState(runId)) === 'active');
    await second.drain();

    // Drained, it did not start the run: the job waits in the queue for another worker.
    const record = await store.getRun(runId);
    expect(record?.status).toBe('interrupted');
    expect(Number(record?.metadata.resumes)).toBe(claimsBefore);
    expect(await queue.getJobState(runId)).toBe('waiting');

    // The next worker finishes it.
    await redis.del(workerKey(harness.prefix, 'elsewhere:1'));
    const third = newWorker();
    await third.start();
    const finished = await until('the run to end', async () => {
      const run = await store.getRun(runId);
      return run && run.status !== 'running' && run.status !== 'interrupted' ? run : undefined;
    });
    expect(finished.status).toBe('succeeded');
  }, 60_000);
});
