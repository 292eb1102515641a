// A cluster run is traced and logged where it runs — on its worker: `serve --cluster` runs nothing,
// so without the worker's own spans and JSON run log a run in cluster mode left no trace at all.
// In-process workers (ClusterWorker) on the machine's Redis and PostgreSQL.
import { PassThrough } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createTracing } from '../../src/telemetry/tracing.js';
import { REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

const PIPELINE =
  'name: traced\nsteps:\n  - { name: a, type: mock, prompt: a }\n  - { name: b, type: mock, prompt: b }\n';

describe('a worker’s traces and run log', () => {
  it('gives a cluster run a span per run, step and call, and a JSON line per event', async () => {
    const harness = await cluster.harness();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const exporter = new InMemorySpanExporter();
    // Read before the worker drains: its drain shuts the tracing down, and the exporter forgets.
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const out = new PassThrough();
    let log = '';
    out.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    const worker = new ClusterWorker({
      config,
      store,
      env: process.env,
      concurrency: 1,
      timing: FAST_TIMING,
      logger: createLogger({ destination: out, level: 'debug' }),
      tracing,
    });
    cleanups.push(() => worker.drain());
    await worker.start();
    const runs = new ClusterRuns(config, store);
    cleanups.push(() => runs.close());
    const runId = await runs.submit(loadPipelineFromString(PIPELINE, 'p.yaml'), {});

    // The root span ends with the run's execution.stop, a moment after the journal says succeeded.
    const spans = await until('the run’s root span', async () => {
      const finished = exporter.getFinishedSpans();
      return finished.some((s) => s.name === 'pipeline traced') && finished;
    });
    const root = spans.find((s) => s.name === 'pipeline traced');
    expect(root?.attributes['elexirion.run.id']).toBe(runId);
    expect(root?.attributes['elexirion.status']).toBe('succeeded');
    expect(spans.filter((s) => s.name.startsWith('step ')).map((s) => s.name)).toEqual(['step a', 'step b']);
    const calls = spans.filter((s) => s.name.startsWith('chat '));
    expect(calls).toHaveLength(2);
    for (const span of spans) expect(span.spanContext().traceId).toBe(root?.spanContext().traceId);

    const lines = log
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event?: string; runId?: string; msg: string });
    const ofRun = lines.filter((l) => l.runId === runId).map((l) => l.event);
    expect(ofRun).toEqual(
      expect.arrayContaining([
        'pipeline.execution.start',
        'pipeline.step.start',
        'pipeline.provider.response',
        'pipeline.step.stop',
        'pipeline.execution.stop',
      ]),
    );
    // The worker's own lines are JSON too: stderr stays one format.
    expect(lines.some((l) => l.event === 'worker' && l.msg === `run ${runId} taken (traced)`)).toBe(true);

    await worker.drain();
    // Drained, the tracing is shut down (its last spans flushed): the exporter is empty now.
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  }, 60_000);
});
