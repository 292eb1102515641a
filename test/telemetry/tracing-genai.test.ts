// Spans as a GenAI-aware backend reads them: it finds the provider under gen_ai.provider.name (the
// conventions' current name; gen_ai.system is its deprecated one), and it adds gen_ai.usage.* up
// over a trace's spans — so only the provider-call spans may carry them, or a run's tokens would be
// counted once per call, once per step and once for the run.
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { attachTracing, createTracing } from '../../src/telemetry/tracing.js';
import { newEngine, runYaml } from './run-pipeline.js';

const PIPELINE = `name: genai
inputs:
  xs: { type: array, default: [1, 2, 3] }
steps:
  - { name: ask, type: mock, prompt: "PROMPT-TEXT-7f3a", response: "ANSWER-TEXT-9c1d" }
  - name: items
    type: batch
    items: "{{ xs }}"
    step_template: { type: mock, prompt: "item {{ item }}" }
`;

async function traced(): Promise<{ spans: ReadableSpan[]; totals: { input_tokens: number; output_tokens: number } }> {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  const engine = newEngine();
  const detach = attachTracing(engine.bus, tracing.tracer);
  const result = await runYaml(engine, PIPELINE, { mock: true });
  detach();
  expect(result.status).toBe('succeeded');
  const spans = exporter.getFinishedSpans();
  await tracing.shutdown();
  return { spans, totals: result.totals };
}

const total = (spans: ReadableSpan[], attribute: string) =>
  spans.reduce((sum, span) => sum + Number(span.attributes[attribute] ?? 0), 0);

describe('GenAI attributes', () => {
  it('gen_ai.usage.* summed over a trace is what the run used: only the call spans carry them', async () => {
    const { spans, totals } = await traced();
    expect(totals.input_tokens).toBeGreaterThan(0);
    expect(total(spans, 'gen_ai.usage.input_tokens')).toBe(totals.input_tokens);
    expect(total(spans, 'gen_ai.usage.output_tokens')).toBe(totals.output_tokens);
    // The run's and the steps' own totals are still on their spans, under names of the project's own.
    const root = spans.find((s) => s.name === 'pipeline genai');
    expect(root?.attributes['elexirion.usage.input_tokens']).toBe(totals.input_tokens);
    expect(root?.attributes['elexirion.usage.output_tokens']).toBe(totals.output_tokens);
    const batch = spans.find((s) => s.name === 'step items');
    expect(batch?.attributes['elexirion.usage.input_tokens']).toBeGreaterThan(0);
  });

  it('name the provider under gen_ai.provider.name, and gen_ai.system for older backends', async () => {
    const { spans } = await traced();
    const calls = spans.filter((s) => s.name.startsWith('chat '));
    expect(calls).toHaveLength(4);
    for (const call of calls) {
      expect(call.attributes['gen_ai.provider.name']).toBe('mock');
      expect(call.attributes['gen_ai.system']).toBe('mock');
      expect(call.attributes['gen_ai.operation.name']).toBe('chat');
    }
  });

  it('carry neither the prompt nor the answer', async () => {
    const { spans } = await traced();
    const exported = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events, s.status]));
    expect(exported).not.toContain('PROMPT-TEXT-7f3a');
    expect(exported).not.toContain('ANSWER-TEXT-9c1d');
  });

  it('marks a failed call span with error.type, the provider error kind', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
    const engine = newEngine();
    const detach = attachTracing(engine.bus, tracing.tracer);
    const result = await runYaml(
      engine,
      `name: failing
steps:
  - { name: ask, type: mock, prompt: "hi", fail_first: 5, retry: { max_attempts: 1 } }
`,
      { mock: true },
    );
    detach();
    expect(result.status).toBe('failed');
    const call = exporter.getFinishedSpans().find((s) => s.name.startsWith('chat '));
    await tracing.shutdown();
    expect(call?.status.code).toBe(2); // ERROR
    expect(call?.attributes['error.type']).toBe('overloaded');
  });
});
