// Cluster: a 2,000-item batch × 50 ms mock latency through 1, 2 and 4 worker processes (real
// `elexirion worker` processes on the machine's Redis and PostgreSQL; `npm run build` first).
// Each worker takes 2 item chunks at once, each chunk runs max_parallel 10 items: 20 calls in
// flight per worker. Ideal = 2,000 × 50 ms / (20 × workers); efficiency = ideal / measured
// (submit to the run's end, from the journal). Then the queue's own overhead: 100 one-step runs
// enqueued 20 ms apart onto 4 idle workers, enqueue-to-start p50/p99 (BullMQ job timestamps).
import { setTimeout as sleep } from 'node:timers/promises';
import { redisConnection } from '../src/cluster/connection.js';
import { enqueueRun, runsQueue } from '../src/cluster/queues.js';
import { loadPipelineFromString } from '../src/config/loader.js';
import { Engine } from '../src/engine/engine.js';
import { PostgresStore } from '../src/journal/postgres-store.js';
import { batchPipeline, clusterHarness, REDIS_URL, runCli } from '../test/cluster/harness.js';

const ITEMS = 2_000;
const LATENCY_MS = 50;
const PER_WORKER = 2 * 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function throughput(workers: number): Promise<void> {
  const h = await clusterHarness();
  try {
    const env = { ...h.env, ELEXIRION_MOCK_CALL_LOG: '' };
    for (let i = 0; i < workers; i++) await h.startWorker({ ELEXIRION_MOCK_CALL_LOG: '' });
    const file = h.write('bench.yaml', batchPipeline(ITEMS, { latency: `${LATENCY_MS}ms`, maxParallel: 10 }));
    const run = await runCli(['run', file, '--cluster', '--json'], env).done;
    if (run.code !== 0) throw new Error(run.stderr);
    const result = JSON.parse(run.stdout) as { duration_ms: number; outputs: { count: number } };
    const ideal = (ITEMS * LATENCY_MS) / (PER_WORKER * workers);
    console.log(
      `${workers} worker(s): ${result.outputs.count} items in ${Math.round(result.duration_ms)} ms; ideal ${Math.round(ideal)} ms; efficiency ${(ideal / result.duration_ms).toFixed(2)}`,
    );
  } finally {
    await h.cleanup();
  }
}

async function queueOverhead(): Promise<void> {
  const h = await clusterHarness();
  const store = new PostgresStore(h.db);
  const connection = redisConnection({ redisUrl: REDIS_URL, prefix: h.prefix });
  const queue = runsQueue({ redisUrl: REDIS_URL, prefix: h.prefix }, connection);
  try {
    for (let i = 0; i < 4; i++) await h.startWorker({ ELEXIRION_MOCK_CALL_LOG: '' });
    const engine = new Engine({ store, cache: false });
    const loaded = loadPipelineFromString(
      'name: tiny\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n',
      'tiny.yaml',
    );
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const record = await engine.create(loaded);
      await enqueueRun(queue, record.id);
      ids.push(record.id);
      await sleep(20);
    }
    const completed = async () => (await queue.getJobCounts('completed')).completed ?? 0;
    for (let i = 0; i < 200 && (await completed()) < ids.length; i++) await sleep(100);
    const waits: number[] = [];
    for (const id of ids) {
      const job = await queue.getJob(id);
      if (job?.processedOn) waits.push(job.processedOn - job.timestamp);
    }
    waits.sort((a, b) => a - b);
    console.log(
      `queue overhead (enqueue to start, ${waits.length} runs, idle workers): p50 ${percentile(waits, 50)} ms, p99 ${percentile(waits, 99)} ms`,
    );
  } finally {
    await queue.close();
    connection.disconnect();
    await store.close();
    await h.cleanup();
  }
}

console.log(`${ITEMS}-item batch × ${LATENCY_MS} ms mock latency, ${PER_WORKER} calls in flight per worker`);
for (const workers of [1, 2, 4]) await throughput(workers);
await queueOverhead();
