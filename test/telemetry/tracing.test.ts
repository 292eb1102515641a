import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { Store } from '../../src/journal/store.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { createRedactor, REDACTED } from '../../src/telemetry/redact.js';
import { attachTracing, CRASHED, createTracing, createTracingFromEnv } from '../../src/telemetry/tracing.js';
import { MOCK_PIPELINE, newEngine, runYaml } from './run-pipeline.js';

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('attachTracing', () => {
  it('makes a span per run, step and provider call, linked parent to child, with GenAI attributes', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const engine = newEngine();
    const detach = attachTracing(engine.bus, tracing.tracer);
    const result = await runYaml(engine, MOCK_PIPELINE, { mock: true });
    detach();
    // Read before shutdown: the in-memory exporter forgets its spans when shut down.
    const spans = exporter.getFinishedSpans();
    await tracing.shutdown();
    const run = spans.find((s) => s.name === 'pipeline two-mocks');
    expect(run).toBeDefined();
    expect(run?.attributes['elexirion.run.id']).toBe(result.run_id);
    expect(run?.attributes['elexirion.status']).toBe('succeeded');
    const steps = spans.filter((s) => s.name.startsWith('step '));
    expect(steps.map((s) => s.name).sort()).toEqual(['step first', 'step second']);
    for (const step of steps) {
      expect(parentOf(step)).toBe(run?.spanContext().spanId);
      expect(step.spanContext().traceId).toBe(run?.spanContext().traceId);
    }
    const calls = spans.filter((s) => s.name.startsWith('chat '));
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(steps.map((s) => s.spanContext().spanId)).toContain(parentOf(call));
      expect(call.attributes['gen_ai.system']).toBe('mock');
      expect(call.attributes['gen_ai.request.model']).toEqual(expect.any(String));
      expect(call.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
    // A step's span lies within its run's.
    for (const step of steps) {
      expect(step.startTime[0] * 1e9 + step.startTime[1]).toBeGreaterThanOrEqual(
        (run?.startTime[0] ?? 0) * 1e9 + (run?.startTime[1] ?? 0),
      );
    }
  });

  it('marks failed runs and provider errors as errors', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const engine = newEngine();
    attachTracing(engine.bus, tracing.tracer);
    const failing = `name: failing
steps:
  - name: flaky
    type: mock
    prompt: "x"
    fail_first: 5
    retry: { max_attempts: 2, base_delay: 1ms }
`;
    const result = await runYaml(engine, failing, { mock: true });
    expect(result.status).toBe('failed');
    const spans = exporter.getFinishedSpans();
    expect(spans.find((s) => s.name === 'pipeline failing')?.status.code).toBe(2);
    const call = spans.find((s) => s.name.startsWith('chat '));
    expect(call?.status.code).toBe(2);
    // The retry is an event of the one call span, not a second span.
    expect(spans.filter((s) => s.name.startsWith('chat '))).toHaveLength(1);
    expect(call?.events.map((e) => e.name)).toContain('retry');
  });
});

describe('attachTracing: nesting and secrets', () => {
  it('puts the calls of batch items under their batch, and the steps of a parallel group under it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const engine = newEngine();
    const detach = attachTracing(engine.bus, tracing.tracer);
    const result = await runYaml(
      engine,
      `name: nested
inputs:
  xs: { type: array, default: [1, 2, 3] }
steps:
  - name: items
    type: batch
    items: "{{ xs }}"
    max_parallel: 2
    step_template: { type: mock, prompt: "hi {{ item }}" }
  - name: group
    type: parallel
    steps:
      - { name: a, type: mock, prompt: a }
      - { name: b, type: mock, prompt: b }
`,
      { mock: true },
    );
    detach();
    const spans = exporter.getFinishedSpans();
    await tracing.shutdown();
    expect(result.status).toBe('succeeded');
    const id = (name: string) => spans.find((s) => s.name === name)?.spanContext().spanId;
    const itemCalls = spans.filter((s) => String(s.attributes['elexirion.step.name']).startsWith('items['));
    expect(itemCalls).toHaveLength(3);
    for (const call of itemCalls) expect(parentOf(call)).toBe(id('step items'));
    expect(parentOf(spans.find((s) => s.name === 'step a') as ReadableSpan)).toBe(id('step group'));
    expect(parentOf(spans.find((s) => s.name === 'step b') as ReadableSpan)).toBe(id('step group'));
    expect(parentOf(spans.find((s) => s.name === 'step group') as ReadableSpan)).toBe(id('pipeline nested'));
  });

  it('puts the steps of a nested pipeline under its pipeline step', () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const bus = new EventBus();
    attachTracing(bus, tracing.tracer);
    bus.emit('pipeline.execution.start', { runId: 'r', pipeline: 'outer', resumed: false, steps: 1 });
    bus.emit('pipeline.step.start', { runId: 'r', step: 'sub', type: 'pipeline', index: 0 });
    bus.emit('pipeline.step.start', { runId: 'r', step: 'sub/items', type: 'batch', index: 0 });
    bus.emit('pipeline.provider.request', { runId: 'r', step: 'sub/items[0]', provider: 'p', model: 'm', attempt: 1 });
    const usage = { inputTokens: 1, outputTokens: 1 };
    const response = { runId: 'r', provider: 'p', model: 'm', durationMs: 1, usage, costUsd: 0, cached: false };
    bus.emit('pipeline.provider.response', { ...response, step: 'sub/items[0]' });
    const stop = { runId: 'r', status: 'succeeded' as const, durationMs: 1, usage, costUsd: 0, attempts: 1 };
    bus.emit('pipeline.step.stop', { ...stop, step: 'sub/items', type: 'batch', fromJournal: false });
    bus.emit('pipeline.step.stop', { ...stop, step: 'sub', type: 'pipeline', fromJournal: false });
    const spans = exporter.getFinishedSpans();
    const id = (name: string) => spans.find((s) => s.name === name)?.spanContext().spanId;
    expect(parentOf(spans.find((s) => s.name === 'step sub/items') as ReadableSpan)).toBe(id('step sub'));
    expect(parentOf(spans.find((s) => s.name === 'chat m') as ReadableSpan)).toBe(id('step sub/items'));
  });

  it('gives a cache hit a span of its own, with no tokens: it used none', () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const bus = new EventBus();
    attachTracing(bus, tracing.tracer);
    bus.emit('pipeline.execution.start', { runId: 'r', pipeline: 'p', resumed: false, steps: 1 });
    bus.emit('pipeline.step.start', { runId: 'r', step: 's', type: 'llm', index: 0 });
    const usage = { inputTokens: 17, outputTokens: 5 }; // the original call's, as a hit's response carries
    bus.emit('pipeline.provider.response', {
      ...{ runId: 'r', step: 's', provider: 'p', model: 'm', durationMs: 0, usage, costUsd: 0, cached: true },
    });
    const span = exporter.getFinishedSpans().find((s) => s.name === 'chat m') as ReadableSpan;
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 0,
      'gen_ai.usage.output_tokens': 0,
      'elexirion.cache_hit': true,
    });
  });

  it('redacts secrets from the error messages it exports', () => {
    const KEY = 'tool-secret-Zq9xW3vB7nM2';
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const bus = new EventBus();
    attachTracing(bus, tracing.tracer, { redact: createRedactor({ GITHUB_TOKEN: KEY }) });
    const error = `tool failed: GET https://api.github.com/repos?access_token=${KEY}`;
    const usage = { inputTokens: 0, outputTokens: 0 };
    bus.emit('pipeline.execution.start', { runId: 'r', pipeline: 'p', resumed: false, steps: 1 });
    bus.emit('pipeline.step.start', { runId: 'r', step: 's', type: 'llm', index: 0 });
    bus.emit('pipeline.provider.request', { runId: 'r', step: 's', provider: 'p', model: 'm', attempt: 1 });
    bus.emit('pipeline.provider.response', {
      ...{ runId: 'r', step: 's', provider: 'p', model: 'm', durationMs: 1, usage, costUsd: 0, cached: false },
      error,
    });
    bus.emit('pipeline.step.stop', {
      ...{ runId: 'r', step: 's', type: 'llm', status: 'failed', durationMs: 1, usage, costUsd: 0, attempts: 1 },
      ...{ fromJournal: false, error },
    });
    bus.emit('pipeline.execution.stop', {
      ...{ runId: 'r', pipeline: 'p', status: 'failed', durationMs: 1, costUsd: 0, inputTokens: 0, outputTokens: 0 },
      error,
    });
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    for (const span of spans) {
      expect(span.status.code).toBe(2);
      expect(span.status.message).toContain(`access_token=${REDACTED}`);
      expect(JSON.stringify([span.status, span.attributes, span.events])).not.toContain(KEY);
    }
  });
});

describe('attachTracing: a run restarted after a crash', () => {
  /** A journal whose first commit of step `key` fails (a full disk, SQLITE_BUSY), the rest as SQLite's. */
  function failingOnce(key: string): Store {
    const real = new SqliteStore(':memory:');
    let failed = false;
    return new Proxy(real, {
      get(target, prop) {
        if (prop === 'commitStep') {
          return (step: { key: string }, ...rest: unknown[]) => {
            if (!failed && step.key === key) {
              failed = true;
              return Promise.reject(new Error('disk I/O error (simulated, once)'));
            }
            return (target.commitStep as (...args: unknown[]) => Promise<void>).call(target, step, ...rest);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  it("ends the crashed attempt's open spans as errors: none stays open, no exported span lacks its parent", async () => {
    const exporter = new InMemorySpanExporter();
    // Every span started and not (yet) ended, by id.
    const open = new Map<string, string>();
    const tracker: SpanProcessor = {
      onStart: (span: Span) => void open.set(span.spanContext().spanId, span.name),
      onEnd: (span: ReadableSpan) => void open.delete(span.spanContext().spanId),
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const tracing = createTracing([new SimpleSpanProcessor(exporter), tracker]);
    const engine = newEngine({}, failingOnce('a'));
    const detach = attachTracing(engine.bus, tracing.tracer);
    // `a` ends (its commit fails: the run crashes) while its group and its sibling `b` are open.
    const result = await runYaml(
      engine,
      `name: crashy
steps:
  - name: grp
    type: parallel
    steps:
      - { name: a, type: mock, prompt: "a" }
      - { name: b, type: mock, prompt: "b", latency: 300ms }
  - { name: after, type: mock, prompt: "after" }
`,
      { mock: true },
    );
    detach();
    const spans = exporter.getFinishedSpans();
    await tracing.shutdown();
    expect(result.status).toBe('succeeded');

    expect([...open.values()]).toEqual([]);
    const roots = spans.filter((s) => s.name === 'pipeline crashy');
    expect(roots).toHaveLength(2);
    const [crashed, restarted] = roots as [ReadableSpan, ReadableSpan];
    expect(crashed.status).toEqual({ code: 2, message: CRASHED });
    expect(crashed.attributes['elexirion.status']).toBe('crashed');
    expect(restarted.status.code).not.toBe(2);
    expect(restarted.attributes['elexirion.status']).toBe('succeeded');
    // The restarted attempt's root names the crashed one: the run's two traces can be joined.
    expect(restarted.links.map((l) => l.context.spanId)).toEqual([crashed.spanContext().spanId]);

    // Every exported span's parent was exported too: no call hangs from a step span that never ended.
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    for (const span of spans) {
      const parent = parentOf(span);
      if (parent) expect(ids, `parent of ${span.name}`).toContain(parent);
    }
    // The crashed attempt's steps end as errors, under its root, with the restart's instant.
    const inCrashed = spans.filter(
      (s) => s.spanContext().traceId === crashed.spanContext().traceId && s.name.startsWith('step '),
    );
    expect(inCrashed.map((s) => s.name).sort()).toEqual(['step a', 'step b', 'step grp']);
    for (const step of inCrashed) {
      expect(step.status).toEqual({ code: 2, message: CRASHED });
      expect(step.attributes['elexirion.status']).toBe('crashed');
      expect(step.endTime).toEqual(crashed.endTime);
    }
    expect(
      spans
        .filter((s) => s.spanContext().traceId === restarted.spanContext().traceId)
        .map((s) => s.name)
        .sort(),
    ).toEqual([
      'chat mock-1',
      'chat mock-1',
      'chat mock-1',
      'pipeline crashy',
      'step a',
      'step after',
      'step b',
      'step grp',
    ]);
  });

  it("ends a crashed attempt's calls still open, and only that run's spans", () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const bus = new EventBus();
    attachTracing(bus, tracing.tracer);
    for (const runId of ['r', 'other']) {
      bus.emit('pipeline.execution.start', { runId, pipeline: 'p', resumed: false, steps: 1 });
      bus.emit('pipeline.step.start', { runId, step: 's', type: 'llm', index: 0 });
      bus.emit('pipeline.provider.request', { runId, step: 's', provider: 'p', model: 'm', attempt: 1 });
    }
    bus.emit('pipeline.execution.start', { runId: 'r', pipeline: 'p', resumed: false, steps: 1 });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['elexirion.run.id']])).toEqual([
      ['chat m', 'r'],
      ['step s', 'r'],
      ['pipeline p', 'r'],
    ]);
    for (const span of spans) expect(span.status).toEqual({ code: 2, message: CRASHED });
  });
});

describe('createTracingFromEnv', () => {
  it('does nothing without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(createTracingFromEnv({})).toBeUndefined();
  });

  it('exports spans over OTLP/HTTP to the endpoint', async () => {
    const received: { path: string; contentType: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const tracing = createTracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
      expect(tracing).toBeDefined();
      const engine = newEngine();
      attachTracing(engine.bus, tracing?.tracer as NonNullable<typeof tracing>['tracer']);
      await runYaml(engine, MOCK_PIPELINE, { mock: true });
      await tracing?.shutdown();
      expect(received.length).toBeGreaterThan(0);
      expect(received[0]?.path).toBe('/v1/traces');
      const all = received.map((r) => r.body).join('');
      expect(all).toContain('pipeline two-mocks');
      expect(all).toContain('gen_ai.request.model');
      expect(all).toContain('elexirion');
    } finally {
      server.close();
    }
  });
});
