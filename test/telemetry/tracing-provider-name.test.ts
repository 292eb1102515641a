// gen_ai.provider.name is the conventions' well-known value of the vendor (`openai`, `anthropic`,
// `gcp.gemini`), taken from the provider's type — not the name a pipeline gives its provider (`fast`),
// which a backend grouping by vendor cannot know. That name stays on the span, as elexirion.provider.
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { MockProvider } from '../../src/providers/mock.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import type { EventMap } from '../../src/telemetry/events.js';
import { attachTracing, createTracing } from '../../src/telemetry/tracing.js';

const PIPELINE = `name: typed
providers:
  fast: { type: openai }
  deep: { type: gemini }
steps:
  - { name: a, type: llm, provider: fast, model: gpt-x, prompt: a }
  - { name: b, type: llm, provider: deep, model: gemini-x, prompt: b }
  - { name: c, type: llm, provider: anthropic, model: claude-x, prompt: c }
`;

async function callSpans(options: { mock?: boolean } = {}): Promise<{ spans: ReadableSpan[]; requests: string[] }> {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  // Every vendor type answered by the mock: the pipeline's declarations (and so the types) are real.
  const mock = (s: { name: string }) => new MockProvider(s.name);
  const engine = new Engine({
    store: new SqliteStore(':memory:'),
    env: { OPENAI_API_KEY: 'sk-test-000000000000', GEMINI_API_KEY: 'AIza-test-000000000000', ANTHROPIC_API_KEY: 'x' },
    cache: false,
    gates: new GateRegistry(),
    providerFactories: { openai: mock, gemini: mock, anthropic: mock } as never,
  });
  const requests: string[] = [];
  engine.bus.on('pipeline.provider.request', (e: EventMap['pipeline.provider.request']) =>
    requests.push(`${e.provider}:${e.providerType}`),
  );
  const detach = attachTracing(engine.bus, tracing.tracer);
  const handle = await engine.start(loadPipelineFromString(PIPELINE, '/tmp/typed.yaml'), options);
  const result = await handle.result;
  detach();
  expect(result.status, result.error).toBe('succeeded');
  const spans = exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat '));
  await tracing.shutdown();
  return { spans, requests };
}

const named = (spans: ReadableSpan[]) =>
  Object.fromEntries(
    spans.map((s) => [
      s.attributes['elexirion.provider'],
      [s.attributes['gen_ai.provider.name'], s.attributes['gen_ai.system']],
    ]),
  );

describe('gen_ai.provider.name', () => {
  it('is the conventions’ value of the provider’s type; the pipeline’s name is elexirion.provider', async () => {
    const { spans, requests } = await callSpans();
    // Left out where it is the name itself (a built-in's): the journal keeps every event.
    expect(requests).toEqual(['fast:openai', 'deep:gemini', 'anthropic:undefined']);
    expect(named(spans)).toEqual({
      fast: ['openai', 'openai'],
      deep: ['gcp.gemini', 'gcp.gemini'],
      anthropic: ['anthropic', 'anthropic'],
    });
  });

  it('is `mock` in a mocked run, whatever the pipeline declares', async () => {
    const { spans } = await callSpans({ mock: true });
    expect(spans).toHaveLength(3);
    for (const span of spans) expect(span.attributes['gen_ai.provider.name']).toBe('mock');
  });

  it('falls back to the provider’s name when an event carries no type', () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const engine = new Engine({ store: new SqliteStore(':memory:'), env: {}, cache: false });
    attachTracing(engine.bus, tracing.tracer);
    const call = { runId: 'r', step: 's', provider: 'claude_code', model: 'default' };
    engine.bus.emit('pipeline.provider.request', { ...call, attempt: 1 });
    engine.bus.emit('pipeline.provider.response', {
      ...call,
      durationMs: 1,
      usage: { inputTokens: 1, outputTokens: 1 },
      costUsd: 0,
      cached: false,
    });
    expect(named(exporter.getFinishedSpans())).toEqual({ claude_code: ['claude_code', 'claude_code'] });
  });
});
