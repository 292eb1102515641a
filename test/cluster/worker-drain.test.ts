import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { workerKey } from '../../src/cluster/heartbeat.js';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

function serial(steps: number, latency: string): string {
  const lines = ['name: serial', 'steps:'];
  for (let i = 1; i <= steps; i++)
    lines.push(`  - name: s${i}`, '    type: mock', `    prompt: "s${i}"`, `    latency: ${latency}`);
  return `${lines.join('\n')}\n`;
}

describe('a worker drained before it starts a job it was handed', () => {
  it('hands a run taken over from another worker back to the queue instead of running it', async () => {
    const harness = await cluster.harness();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const redis = new Redis(REDIS_URL);
    cleanups.push(async () => redis.disconnect());
    const queue = new Queue('runs', { connection: redis, prefix: harness.prefix });
    cleanups.push(() => queue.close());
    const newWorker = () => {
      const worker = new ClusterWorker({ config, store, env: process.env, concurrency: 1, timing: FAST_TIMING });
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
