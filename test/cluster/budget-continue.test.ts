// A budget refusal on the cluster stops the batch whatever `on_item_error` says, as on one machine:
// the run fails with the budget's message, resumable with a larger one — it used to be absorbed
// (the refused items journaled as failed, the flow complete, the run "succeeded" with nulls and could
// not be resumed). In-process worker on the machine's Redis and PostgreSQL.
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

const ITEMS = 30;
const pipeline = [
  'name: budget-continue',
  // Mock calls: each one's worst case ~4,100 tokens (no max_tokens: the 4,096 cap), real use ~20.
  'budget: { max_tokens: 4250 }',
  'steps:',
  '  - name: fan',
  '    type: batch',
  `    items: ${JSON.stringify(Array.from({ length: ITEMS }, (_, i) => i))}`,
  '    max_parallel: 1',
  '    on_item_error: continue',
  '    step_template: { type: mock, prompt: "item {{ index }}", latency: 5ms }',
  '',
].join('\n');

describe('a budget refusal on the cluster, under on_item_error: continue', () => {
  it('fails the run with the budget’s message, its refused items left for a resume', async () => {
    const harness = await cluster.harness();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const worker = new ClusterWorker({
      config,
      store,
      env: process.env,
      concurrency: 1,
      itemConcurrency: 2,
      chunkSize: 5,
      timing: FAST_TIMING,
    });
    cleanups.push(() => worker.drain());
    await worker.start();
    const runs = new ClusterRuns(config, store);
    cleanups.push(() => runs.close());

    const runId = await runs.submit(loadPipelineFromString(pipeline, 'b.yaml'), {});
    const stopped = await until('the run to end', async () => {
      const run = await store.getRun(runId);
      return run && run.status !== 'running' ? run : undefined;
    });
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toMatch(/budget: step "fan\[\d+\]" stopped before calling mock\/mock-1/);
    // The refused items are not journaled as failed: none is taken for done.
    // The refused items are not journaled as failed: a resume with a larger budget runs them.
    expect((await store.getItems(runId, 'fan')).filter((i) => i.status === 'failed')).toEqual([]);
  });
});
