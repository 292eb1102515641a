// A call whose answer never comes — its run stopped (cancelled, interrupted, given up by a worker
// that lost it) while the call was in flight — ends with the run, failed: left open, its span would
// never be exported and would stay in memory for as long as the process lives.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { attachTracing, createTracing, UNANSWERED } from '../../src/telemetry/tracing.js';

const stop = (runId: string, status: 'cancelled' | 'interrupted') => ({
  runId,
  pipeline: 'p',
  status,
  durationMs: 5,
  costUsd: 0,
  inputTokens: 0,
  outputTokens: 0,
});

describe('call spans left open by a run', () => {
  it('end with status ERROR when their run stops, and only that run’s', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const bus = new EventBus();
    attachTracing(bus, tracing.tracer);
    for (const runId of ['r1', 'r2']) {
      bus.emit('pipeline.execution.start', { runId, pipeline: 'p', resumed: false, steps: 1 });
      bus.emit('pipeline.step.start', { runId, step: 'ask', type: 'llm', index: 0 });
      bus.emit('pipeline.provider.request', { runId, step: 'ask', provider: 'fast', model: 'm1', attempt: 1 });
    }
    // A step with a fallback under way: two calls of one step open at once.
    bus.emit('pipeline.provider.request', { runId: 'r1', step: 'ask', provider: 'fast', model: 'm2', attempt: 1 });
    bus.emit('pipeline.execution.stop', stop('r1', 'cancelled'));

    const ended = exporter.getFinishedSpans();
    const calls = ended.filter((s) => s.name.startsWith('chat '));
    expect(calls.map((s) => s.name).sort()).toEqual(['chat m1', 'chat m2']);
    for (const call of calls) {
      expect(call.attributes['elexirion.run.id']).toBe('r1');
      expect(call.status).toEqual({ code: 2, message: `${UNANSWERED} (run cancelled)` });
    }
    // Each within its step, which ends with the run too.
    expect(ended.map((s) => s.name).sort()).toEqual(['chat m1', 'chat m2', 'pipeline p', 'step ask']);

    // The other run's call is still open: its answer ends it as usual.
    bus.emit('pipeline.provider.response', {
      runId: 'r2',
      step: 'ask',
      provider: 'fast',
      model: 'm1',
      durationMs: 3,
      usage: { inputTokens: 1, outputTokens: 1 },
      costUsd: 0,
      cached: false,
    });
    const r2 = exporter.getFinishedSpans().filter((s) => s.attributes['elexirion.run.id'] === 'r2');
    expect(r2.map((s) => [s.name, s.status.code])).toEqual([['chat m1', 0]]);
    await tracing.shutdown();
  });

  it('an answer that comes after its run stopped makes no span of its own (no orphan root)', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const bus = new EventBus();
    attachTracing(bus, tracing.tracer);
    bus.emit('pipeline.execution.start', { runId: 'r1', pipeline: 'p', resumed: false, steps: 1 });
    bus.emit('pipeline.step.start', { runId: 'r1', step: 'ask', type: 'llm', index: 0 });
    bus.emit('pipeline.provider.request', { runId: 'r1', step: 'ask', provider: 'fast', model: 'm1', attempt: 1 });
    bus.emit('pipeline.execution.stop', stop('r1', 'interrupted'));
    const before = exporter.getFinishedSpans().length;
    // The provider ignored the abort and answered late.
    bus.emit('pipeline.provider.response', {
      runId: 'r1',
      step: 'ask',
      provider: 'fast',
      model: 'm1',
      durationMs: 30,
      usage: { inputTokens: 1, outputTokens: 1 },
      costUsd: 0,
      cached: false,
    });
    expect(exporter.getFinishedSpans()).toHaveLength(before);
    await tracing.shutdown();
  });
});
