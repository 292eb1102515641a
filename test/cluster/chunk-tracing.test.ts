// The calls of a batch's items that run as cluster chunk jobs are traced, in their run's trace: each
// chunk job gets a span under the batch step's span (its context travels in the job's data, from
// the run's worker to whichever worker takes the chunk), and the chunk's item calls go under it as
// the GenAI call spans of a local batch do. They used to have no span at all: a trace showed a
// batch step of hundreds of calls with none under it. In-process workers, each exporting over
// OTLP/HTTP to the collector fake, on the machine's Redis and PostgreSQL.
import { describe, expect, it } from 'vitest';
import { ClusterRuns } from '../../src/cluster/remote-runs.js';
import { ClusterWorker } from '../../src/cluster/worker.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { PostgresStore } from '../../src/journal/postgres-store.js';
import { createTracingFromEnv } from '../../src/telemetry/tracing.js';
import { otlpCollector } from '../fakes/otlp-collector.js';
import { batchPipeline, REDIS_URL } from './harness.js';
import { FAST_TIMING, inProcessCluster, until } from './in-process.js';

const cluster = inProcessCluster();
const { cleanups } = cluster;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}

/** The spans in the collector's bodies (OTLP/JSON), each with its attributes as plain values and its service. */
function spansOf(bodies: string[]) {
  const out: (OtlpSpan & { attrs: Record<string, unknown>; service: unknown })[] = [];
  for (const body of bodies) {
    const parsed = JSON.parse(body) as {
      resourceSpans: {
        resource: { attributes: OtlpSpan['attributes'] };
        scopeSpans: { spans: OtlpSpan[] }[];
      }[];
    };
    for (const rs of parsed.resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          const attrs = Object.fromEntries(
            span.attributes.map((a) => [a.key, a.value.stringValue ?? a.value.boolValue ?? Number(a.value.intValue)]),
          );
          out.push({ ...span, attrs, service });
        }
    }
  }
  return out;
}

describe('a clustered batch’s item calls in its run’s trace', () => {
  it('gives each chunk job a span under the batch step’s span, and each item call a span under its chunk', async () => {
    const harness = await cluster.harness();
    const config = { redisUrl: REDIS_URL, prefix: harness.prefix };
    const store = new PostgresStore(harness.db);
    cleanups.push(() => store.close());
    const otlp = await otlpCollector();
    cleanups.push(() => otlp.close());
    const workers = ['worker-a', 'worker-b'].map(
      (service) =>
        new ClusterWorker({
          config,
          store,
          env: process.env,
          concurrency: 1,
          itemConcurrency: 2,
          chunkSize: 2,
          timing: FAST_TIMING,
          tracing: createTracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: service }),
        }),
    );
    for (const worker of workers) {
      cleanups.push(() => worker.drain());
      await worker.start();
    }
    const runs = new ClusterRuns(config, store);
    cleanups.push(() => runs.close());
    const runId = await runs.submit(loadPipelineFromString(batchPipeline(7, { latency: '30ms' }), 'p.yaml'), {});
    await until('the run to succeed', async () => (await store.getRun(runId))?.status === 'succeeded');
    // Drained, each worker has flushed its spans to the collector.
    for (const worker of workers) await worker.drain();

    const spans = spansOf(otlp.bodies);
    const step = spans.find((s) => s.name === 'step fan' && s.attrs['elexirion.run.id'] === runId);
    expect(step).toBeDefined();
    const root = spans.find((s) => s.spanId === step?.parentSpanId);
    expect(root?.name).toBe('pipeline cluster-batch');

    // One span per chunk job (7 items in chunks of 2: 0–1, 2–3, 4–5, 6), under the batch step.
    const chunks = spans.filter((s) => s.name === 'chunk fan');
    expect(
      chunks.map((c) => [c.attrs['elexirion.chunk.first_item'], c.attrs['elexirion.chunk.last_item']]).sort(),
    ).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 6],
    ]);
    for (const chunk of chunks) {
      expect(chunk.traceId).toBe(step?.traceId);
      expect(chunk.parentSpanId).toBe(step?.spanId);
      expect(chunk.kind).toBe(5); // CONSUMER, in OTLP's numbering (SpanKind + 1)
      expect(chunk.attrs).toMatchObject({
        'elexirion.run.id': runId,
        'elexirion.step.name': 'fan',
        'messaging.system': 'bullmq',
        'messaging.destination.name': 'items',
      });
      expect(chunk.status?.code ?? 0).toBe(0); // unset: the chunk ended as it should
    }

    // Each item's call: a GenAI client span under the chunk that ran the item, as a local batch's are.
    const calls = spans.filter(
      (s) => s.name === 'chat mock-1' && String(s.attrs['elexirion.step.name']).startsWith('fan['),
    );
    expect(calls.map((c) => c.attrs['elexirion.step.name']).sort()).toEqual(
      Array.from({ length: 7 }, (_, i) => `fan[${i}]`).sort(),
    );
    for (const call of calls) {
      const index = Number(/\[(\d+)\]/.exec(String(call.attrs['elexirion.step.name']))?.[1]);
      const chunk = chunks.find((c) => c.spanId === call.parentSpanId);
      expect(chunk, `the chunk of item ${index}`).toBeDefined();
      expect(index).toBeGreaterThanOrEqual(Number(chunk?.attrs['elexirion.chunk.first_item']));
      expect(index).toBeLessThanOrEqual(Number(chunk?.attrs['elexirion.chunk.last_item']));
      expect(call.traceId).toBe(step?.traceId);
      expect(call.service).toBe(chunk?.service); // traced where the chunk ran
      expect(call.kind).toBe(3); // CLIENT
      expect(call.attrs).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'mock',
        'gen_ai.system': 'mock',
        'gen_ai.request.model': 'mock-1',
        'gen_ai.response.model': 'mock-1',
        'gen_ai.usage.input_tokens': expect.any(Number),
        'gen_ai.usage.output_tokens': expect.any(Number),
        'elexirion.provider': 'mock',
        'elexirion.run.id': runId,
        'elexirion.cache_hit': false,
      });
    }
  }, 60_000);
});
