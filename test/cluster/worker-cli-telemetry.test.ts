import { afterEach, describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { type OtlpCollector, otlpCollector } from '../fakes/otlp-collector.js';
import { type ClusterHarness, clusterHarness, REDIS_URL } from './harness.js';
import { until } from './in-process.js';

let h: ClusterHarness | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await h?.cleanup();
  h = undefined;
});

/** A collector, closed after the test. */
async function collector(): Promise<OtlpCollector> {
  const started = await otlpCollector();
  cleanups.push(() => started.close());
  return started;
}

describe('elexirion worker: logs and traces', () => {
  it('exports the spans of the runs it ran, and logs them as JSON lines on stderr', async () => {
    h = await clusterHarness();
    const otlp = await collector();
    const worker = await h.startWorker({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'worker-test' });
    const store = new PostgresStore(h.db);
    cleanups.push(() => store.close());
    const runs = new ClusterRuns({ redisUrl: REDIS_URL, prefix: h.prefix }, store);
    cleanups.push(() => runs.close());
    const yaml = 'name: cli-traced\nsteps:\n  - { name: only, type: mock, prompt: hi }\n';
    const runId = await runs.submit(loadPipelineFromString(yaml, 'p.yaml'), {});
    await until('the run to succeed', async () => (await store.getRun(runId))?.status === 'succeeded');
    await until('the run’s end in the log', async () => worker.stderr().includes('"event":"pipeline.execution.stop"'));

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const exported = otlp.bodies.join('\n');
    expect(exported).toContain('pipeline cli-traced');
    expect(exported).toContain('step only');
    expect(exported).toContain(runId);
    expect(exported).toContain('worker-test');

    // Every line of stderr is JSON: the worker's own and its runs'.
    const lines = worker
      .stderr()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event?: string; runId?: string; msg: string });
    expect(lines.filter((l) => l.runId === runId).map((l) => l.event)).toEqual(
      expect.arrayContaining(['pipeline.execution.start', 'pipeline.step.stop', 'pipeline.execution.stop']),
    );
    expect(lines.some((l) => l.msg === 'elexirion worker: draining')).toBe(true);
  }, 60_000);
});
