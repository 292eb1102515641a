// A run cancelled mid-batch and resumed while a chunk of its flow is still finishing its current
// item: the resumed run joins that flow (it is still going), which then ends without the items that
// a chunk stopped by the cancellation skipped. The run must run those in a new flow, not fail with
// "item(s) never ran on the cluster". In-process worker (ClusterWorker) on the machine's Redis and
// PostgreSQL; the items are calls to a fake Anthropic that holds answers until the test lets them go.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import type { FakeAnswer } from '../fakes/answer.js';
import { AnthropicFake } from '../fakes/index.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

describe('cancel, then resume while the flow still goes on', () => {
  it('runs the items the cancelled chunks skipped in a new flow, and succeeds', async () => {
    const harness = await cluster.harness();
    const fake = new AnthropicFake();
    await fake.start();
    cleanups.push(() => fake.stop());
    const gate = () => {
      let open: () => void = () => {};
      const opened = new Promise<void>((done) => {
        open = done;
      });
      cleanups.push(async () => open());
      return { opened, open };
    };
    // Items 0 (first chunk) and 2 (second chunk) wait for the test: both chunks are mid-item while
    // the run is cancelled.
    const first = gate();
    const second = gate();
    fake.setScript(async (_request, digest) => {
      if (digest.lastUserText === 'item 0') await first.opened;
      if (digest.lastUserText === 'item 2') await second.opened;
      return undefined as unknown as FakeAnswer; // the default answer
    });

    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    cleanups.push(async () => redis.disconnect());
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const env = { ...process.env, ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.baseUrl };
    // Chunks of two items, two chunks at a time: items 0–1 and 2–3.
    const worker = new ClusterWorker({
      config,
      store,
      env,
      concurrency: 1,
      itemConcurrency: 2,
      chunkSize: 2,
      timing: FAST_TIMING,
    });
    cleanups.push(() => worker.drain());
    await worker.start();

    const runs = new ClusterRuns(config, store);
    cleanups.push(() => runs.close());
    const yaml = [
      'name: fan',
      'steps:',
      '  - name: fan',
      '    type: batch',
      '    items: [0, 1, 2, 3]',
      '    max_parallel: 1',
      '    step_template:',
      '      type: claude',
      '      model: claude-haiku-4-5',
      '      prompt: "item {{ index }}"',
      '',
    ].join('\n');
    const runId = await runs.submit(loadPipelineFromString(yaml, 'fan.yaml'), {});
    const asked = (prompt: string) => fake.requests.some((r) => JSON.stringify(r.body).includes(`"${prompt}"`));
    await until('both chunks to be mid-item', async () => asked('item 0') && asked('item 2'));

    expect(await runs.cancel(runId)).toBe('cancelling');
    await until('the run to be cancelled', async () => (await store.getRun(runId))?.status === 'cancelled');
    // The chunks look for the cancellation every 500 ms: let them see it.
    await sleep(1_500);
    // The first chunk finishes its item and stops there: item 1 never runs in this flow.
    first.open();
    const items = new Queue('items', { connection: redis, prefix: harness.prefix });
    cleanups.push(() => items.close());
    await until('the first chunk to end', async () => (await items.getJobState(`${runId}|fan|g0|0`)) === 'completed');
    expect((await store.countItems(runId, 'fan')).succeeded).toBe(1);

    // Resumed while the second chunk still runs: the run joins the flow, which is still going.
    await runs.resume(runId);
    await until('the resume to take the run', async () => (await store.getRun(runId))?.status === 'running');
    await sleep(1_000);
    second.open();

    const finished = await until('the run to end', async () => {
      const run = await store.getRun(runId);
      return run && run.status !== 'running' ? run : undefined;
    });
    expect(finished.status, finished.error).toBe('succeeded');
    expect((await store.countItems(runId, 'fan')).succeeded).toBe(4);
  }, 60_000);
});
