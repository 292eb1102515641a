// `serve --cluster`: the event stream of a run just resumed follows the resumed execution. Until a
// worker takes the resume from the queue, the journal still tells how the run's last execution
// ended — its final status, its execution.stop — and the stream used to end at once on them: the
// client (the dashboard too) never saw the resumed execution, which then ran and succeeded unseen.
// The stream of a run truly over still ends promptly. In-process service and worker, on the
// machine's Redis and PostgreSQL.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipeline } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { startService } from '../../src/server/service.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

const PIPELINE = `name: resumed
steps:
  - { name: a, type: mock, prompt: a, latency: 300ms }
  - { name: b, type: mock, prompt: b, latency: 300ms }
`;

interface Streamed {
  types: string[];
  stop?: { status?: string };
  ms: number;
}

/** Reads a run's event stream to its end. */
async function readStream(url: string, runId: string): Promise<Streamed> {
  const t0 = Date.now();
  const text = await (await fetch(`${url}/runs/${runId}/events`)).text();
  const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1] as string);
  const payloads = [...text.matchAll(/^data: (.*)$/gm)].map(
    (m) => JSON.parse(m[1] as string) as { type: string; data: { status?: string } },
  );
  const stop = payloads.filter((p) => p.type === 'pipeline.execution.stop').at(-1)?.data;
  return { types, ...(stop ? { stop } : {}), ms: Date.now() - t0 };
}

describe('serve --cluster: the event stream of a resumed run', () => {
  it('follows the resumed execution to its end, and a finished run’s stream still ends at once', async () => {
    const harness = await cluster.harness();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    await store.migrate();
    const root = join(harness.dir, 'root');
    mkdirSync(root);
    const file = join(root, 'p.yaml');
    writeFileSync(file, PIPELINE);

    // A run cancelled after its first step: its journal ends with an execution.stop, its row says
    // cancelled.
    const local = new Engine({ store, cache: false });
    const first = await local.start(await loadPipeline(file), { metadata: { source: 'http' } });
    await until('step a', async () => (await store.getSteps(first.runId)).length === 1);
    first.stop('cancelled');
    expect((await first.result).status).toBe('cancelled');
    const runId = first.runId;

    const service = await startService({ store, root, port: 0, env: {}, remote: new ClusterRuns(config, store) });
    cleanups.push(() => service.shutdown(2_000));
    const resumed = await fetch(`${service.url}/runs/${runId}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(202);
    expect(await resumed.json()).toEqual({ run_id: runId, status: 'queued' });

    // Followed while the resume waits in the queue: no worker takes it for a while.
    const following = readStream(service.url, runId);
    let ended = false;
    void following.then(() => {
      ended = true;
    });
    await sleep(1_000);
    expect(ended).toBe(false);

    const worker = new ClusterWorker({ config, store, env: {}, concurrency: 1, timing: FAST_TIMING });
    cleanups.push(() => worker.drain());
    await worker.start();
    const streamed = await following;
    expect(streamed.types.filter((t) => t === 'pipeline.execution.start')).toHaveLength(2);
    expect(streamed.types.filter((t) => t === 'pipeline.execution.stop')).toHaveLength(2);
    expect(streamed.types.at(-1)).toBe('pipeline.execution.stop');
    expect(streamed.stop?.status).toBe('succeeded');
    expect((await store.getRun(runId))?.status).toBe('succeeded');

    // Over now: its stream replays it and ends without waiting.
    const probe = new ClusterRuns(config, store);
    cleanups.push(() => probe.close());
    await until('the job to complete', async () => !(await probe.isLive(runId)));
    const again = await readStream(service.url, runId);
    expect(again.stop?.status).toBe('succeeded');
    expect(again.types.filter((t) => t === 'pipeline.execution.start')).toHaveLength(2);
    expect(again.ms).toBeLessThan(1_000);
  }, 60_000);
});
