// ChunkTracing on its own: a chunk job's span goes under the span its `traceparent` names (or starts
// a trace when it names none), its items' calls go under it — their retries as events — and a chunk
// that ends mid-call ends that call's span too, failed, so that no span stays open.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CHUNK_UNANSWERED, ChunkTracing } from '../../src/cluster/chunk-tracing.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { createRedactor } from '../../src/telemetry/redact.js';
import { traceparentOf } from '../../src/telemetry/traceparent.js';
import { createTracing } from '../../src/telemetry/tracing.js';

const SECRET = 'sk-chunk-secret-0123456789';

function setUp() {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  const bus = new EventBus();
  const chunks = new ChunkTracing(tracing.tracer, createRedactor({ SOME_API_KEY: SECRET }));
  chunks.attach(bus);
  const request = (step: string, attempt = 1) =>
    bus.emit('pipeline.provider.request', { runId: 'r1', step, provider: 'mock', model: 'm', attempt });
  const response = (step: string, extra: { cached?: boolean; error?: string } = {}) =>
    bus.emit('pipeline.provider.response', {
      runId: 'r1',
      step,
      provider: 'mock',
      model: 'm',
      durationMs: 5,
      usage: { inputTokens: 3, outputTokens: 4 },
      costUsd: null,
      cached: extra.cached ?? false,
      ...(extra.error ? { error: extra.error, errorKind: 'timeout' } : {}),
    });
  return { exporter, tracing, chunks, request, response };
}

const job = (from: number, to: number, traceparent?: string) => ({
  id: `r1|fan|g0|${from}`,
  data: {
    runId: 'r1',
    stepKey: 'fan',
    generation: 0,
    from,
    to,
    enqueuedAt: 0,
    ...(traceparent ? { traceparent } : {}),
  },
});

describe('ChunkTracing', () => {
  it('puts a chunk under the step span its job names, and its items’ calls under the chunk', () => {
    const { exporter, tracing, chunks, request, response } = setUp();
    const step = tracing.tracer.startSpan('step fan');
    const traced = chunks.begin(job(2, 4, traceparentOf(step)));
    request('fan[2]');
    request('fan[2]', 2); // a retry: an event on the same span
    response('fan[2]');
    response('fan[3]', { cached: true }); // a cache hit: a span covering the lookup
    request('fan[4]'); // another chunk's item: not this chunk's
    request('other[2]');
    traced.end();
    const spans = exporter.getFinishedSpans();
    const chunk = spans.find((s) => s.name === 'chunk fan');
    expect(chunk?.kind).toBe(SpanKind.CONSUMER);
    expect(chunk?.spanContext().traceId).toBe(step.spanContext().traceId);
    expect(chunk?.parentSpanContext?.spanId).toBe(step.spanContext().spanId);
    expect(chunk?.attributes).toMatchObject({ 'elexirion.chunk.first_item': 2, 'elexirion.chunk.last_item': 3 });
    const calls = spans.filter((s) => s.name === 'chat m');
    expect(calls.map((c) => c.attributes['elexirion.step.name'])).toEqual(['fan[2]', 'fan[3]']);
    for (const call of calls) expect(call.parentSpanContext?.spanId).toBe(chunk?.spanContext().spanId);
    expect(calls[0]?.events.map((e) => [e.name, e.attributes?.attempt])).toEqual([['retry', 2]]);
    expect(calls[1]?.attributes).toMatchObject({ 'elexirion.cache_hit': true, 'gen_ai.usage.input_tokens': 0 });
  });

  it('ends the calls a chunk left in flight, failed; a failed chunk is an error, redacted', () => {
    const { exporter, chunks, request } = setUp();
    const traced = chunks.begin(job(0, 2));
    request('fan[1]');
    traced.end(new Error(`the journal refused ${SECRET}`));
    traced.end(); // once only
    const spans = exporter.getFinishedSpans();
    const chunk = spans.find((s) => s.name === 'chunk fan');
    // No traceparent: a trace of its own.
    expect(chunk?.parentSpanContext).toBeUndefined();
    expect(chunk?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the journal refused [REDACTED]' });
    const call = spans.find((s) => s.name === 'chat m');
    expect(call?.status).toEqual({ code: SpanStatusCode.ERROR, message: CHUNK_UNANSWERED });
    expect(spans).toHaveLength(2);
  });
});
