// gen_ai.response.model is the model that answered, as the provider names it — often a dated
// snapshot of the one asked for (`x-2025-01-01` for `x`) — not the requested model repeated. The
// event carries it (`responseModel`) only when it differs: the journal keeps every event.
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { Engine } from '../../src/engine/engine.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import { MockProvider } from '../../src/providers/mock.js';
import type { ModelRequest, ModelResponse } from '../../src/providers/provider.js';
import type { EventMap } from '../../src/telemetry/events.js';
import { attachTracing, createTracing } from '../../src/telemetry/tracing.js';

/** Answers `x` as its dated snapshot, any other model under its own name. */
class DatedProvider extends MockProvider {
  override generate(request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    return super
      .generate(request, signal)
      .then((answer) => ({ ...answer, model: request.model === 'x' ? 'x-2025-01-01' : answer.model }));
  }
}

const PIPELINE = `name: dated
steps:
  - { name: dated, type: llm, provider: anthropic, model: x, prompt: a }
  - { name: same, type: llm, provider: anthropic, model: y, prompt: b }
`;

it('names the model that answered on the call span; the event carries it only when it differs', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  const engine = new Engine({
    store: new SqliteStore(':memory:'),
    env: { ANTHROPIC_API_KEY: 'sk-test-000000000000' },
    providerFactories: { anthropic: (s: { name: string }) => new DatedProvider(s.name) } as never,
  });
  const responses: EventMap['pipeline.provider.response'][] = [];
  engine.bus.on('pipeline.provider.response', (e) => responses.push(e));
  attachTracing(engine.bus, tracing.tracer);
  // Twice: the second run is answered from the cache, by the same dated model.
  for (let i = 0; i < 2; i++) {
    const handle = await engine.start(loadPipelineFromString(PIPELINE, '/tmp/dated.yaml'));
    const result = await handle.result;
    expect(result.status, result.error).toBe('succeeded');
  }
  expect(responses.map((e) => [e.step, e.cached, e.model, e.responseModel])).toEqual([
    ['dated', false, 'x', 'x-2025-01-01'],
    ['same', false, 'y', undefined],
    ['dated', true, 'x', 'x-2025-01-01'],
    ['same', true, 'y', undefined],
  ]);
  // Not even an undefined key: the journal would keep it (as null) in every event.
  for (const e of responses.filter((r) => r.step === 'same')) expect('responseModel' in e).toBe(false);

  const calls = exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat '));
  const models = (s: ReadableSpan) => [
    s.name,
    s.attributes['gen_ai.request.model'],
    s.attributes['gen_ai.response.model'],
  ];
  expect(calls.map(models)).toEqual([
    ['chat x', 'x', 'x-2025-01-01'],
    ['chat y', 'y', 'y'],
    ['chat x', 'x', 'x-2025-01-01'],
    ['chat y', 'y', 'y'],
  ]);
  await tracing.shutdown();
  await engine.drain();
});
