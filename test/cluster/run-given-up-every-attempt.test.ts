// A run whose worker gives it up on every delivery of its job (its lock lost each time: a frozen
// process, Redis cut off) until BullMQ, past maxStalledCount, fails the job for good. Nobody will
// take that job again: the run must not stay `running` in the journal forever — it ends
// `interrupted`, resumable, with the queue's reason, and `run --cluster` says the cluster gave up.
// Before, it stayed `running` with no owner, and a resume on the worker's host was refused ("still
// running": its owner lives). In-process worker and follower on the machine's Redis and
// PostgreSQL; the test takes the job's lock away, as a freeze or a Redis outage would.
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterGaveUpError, submitAndFollow } from '../../src/cluster/submit.js';
import type { ClusterTiming } from '../../src/cluster/timing.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import type { ClusterHarness } from './harness.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

/** Short locks: a lost lock is noticed (renewal) and the job found stalled within a second. */
const TIMING: ClusterTiming = { ...FAST_TIMING, lockMs: 400, stalledIntervalMs: 400, heartbeatMs: 100 };
/** BullMQ fails a job found stalled more often than the worker's maxStalledCount (2). */
const STALLS = 3;
const REASON = 'the cluster gave up on its job: job stalled more than allowable limit';

const PIPELINE = `
name: never-kept
steps:
  - name: slow
    type: mock
    prompt: "slow"
    latency: 60s
`;

interface Setup {
  harness: ClusterHarness;
  store: PostgresStore;
  worker: ClusterWorker;
  /** Lines the worker logged containing `what`. */
  count(what: string): number;
  /** Takes the run's job lock away each time the worker takes it, until the queue fails the job. */
  loseEveryDelivery(runId: string): Promise<void>;
}

async function setUp(): Promise<Setup> {
  const harness = await cluster.harness();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  cleanups.push(async () => redis.disconnect());
  const store = new PostgresStore(harness.db);
  cleanups.push(() => store.close());
  const lines: string[] = [];
  const worker = new ClusterWorker({
    config: { redisUrl: REDIS_URL, prefix: harness.prefix },
    store,
    env: process.env,
    concurrency: 1,
    timing: TIMING,
    log: (line) => lines.push(line),
  });
  cleanups.push(() => worker.drain());
  await worker.start();
  const count = (what: string) => lines.filter((l) => l.includes(what)).length;
  return {
    harness,
    store,
    worker,
    count,
    async loseEveryDelivery(runId) {
      for (let taken = 1; taken <= STALLS; taken++) {
        await until(`take ${taken}`, async () => count(`run ${runId} taken`) === taken);
        await redis.del(`${harness.prefix}:runs:${runId}:lock`); // the worker gives the run up, the job stalls
        await until(`give-up ${taken}`, async () => count(`run ${runId} given up`) === taken);
      }
    },
  };
}

describe('a run given up on every delivery of its job', () => {
  it('is ended interrupted, resumable, by the worker that fails its job for good', async () => {
    const { harness, store, worker, count, loseEveryDelivery } = await setUp();
    const runs = new ClusterRuns({ redisUrl: REDIS_URL, prefix: harness.prefix }, store);
    cleanups.push(() => runs.close());
    const runId = await runs.submit(loadPipelineFromString(PIPELINE, `${harness.dir}/p.yaml`), {});
    await loseEveryDelivery(runId);

    await until('the worker to end the run', async () => count(`run ${runId} interrupted`) === 1, 5_000).catch(
      () => {},
    );
    const run = await store.getRun(runId);
    expect(run?.status).toBe('interrupted');
    expect(run?.error).toBe(REASON);
    expect(run?.finishedAt).toBeGreaterThan(0);
    expect(worker.engine.isActive(runId)).toBe(false);

    // Resumable: enqueued again (POST /runs/:id/resume), a worker takes it from the journal.
    await runs.resume(runId);
    await until('the resume taken', async () => count(`run ${runId} taken`) === STALLS + 1);
    expect((await store.getRun(runId))?.status).toBe('running');
  }, 30_000);

  it('makes `run --cluster` say the cluster gave up, the run interrupted in the journal', async () => {
    const { harness, store, count, loseEveryDelivery } = await setUp();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const loaded = loadPipelineFromString(PIPELINE, `${harness.dir}/p.yaml`);
    const followed = submitAndFollow(loaded, { config, store, location: harness.db, start: {} });
    followed.catch(() => {}); // awaited once the job has failed
    const runId = await until('the run created', async () => (await store.listRuns({ limit: 1 }))[0]?.id);
    await until('the run taken', async () => count(`run ${runId} taken`) === 1);
    await loseEveryDelivery(runId);

    const error = await followed.then(
      () => undefined,
      (e: unknown) => e,
    );
    // Whichever reads first — the follower or the worker that failed the job — the story is the same.
    expect(error).toBeInstanceOf(ClusterGaveUpError);
    expect((error as Error).message).toContain('job stalled more than allowable limit');
    const run = await store.getRun(runId);
    expect(run?.status).toBe('interrupted');
    expect(run?.error).toBe(REASON);
  }, 30_000);
});
