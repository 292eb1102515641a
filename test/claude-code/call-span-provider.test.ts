// A claude_code session talks to Anthropic's API: its call span names the vendor `anthropic`
// (gen_ai.provider.name, gen_ai.system), as a `claude` step's does — not `claude-code`, which no
// GenAI-aware backend knows — and keeps the name the engine gives it as elexirion.provider.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import type { EventMap } from '../../src/telemetry/events.js';
import { attachTracing, createTracing } from '../../src/telemetry/tracing.js';
import { FAKE_CLAUDE, PASS_FAKE_ENV } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

const pipeline = (prompt: string) => `name: cc
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "${prompt}"
`;

it.each([
  ['a session that succeeds', 'fix it', 'succeeded'],
  ['a session that fails', 'fix it [scenario:error]', 'failed'],
])('names the vendor anthropic on the call span of %s', async (_, prompt, status) => {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  attachTracing(ws.engine.bus, tracing.tracer);
  const types: string[] = [];
  const typed = (e: EventMap['pipeline.provider.request'] | EventMap['pipeline.provider.response']) =>
    types.push(`${e.provider}:${e.providerType}`);
  ws.engine.bus.on('pipeline.provider.request', typed);
  ws.engine.bus.on('pipeline.provider.response', typed);

  const { result } = await ws.run(pipeline(prompt));
  expect(result.status).toBe(status);
  expect(types).toEqual(['claude-code:anthropic', 'claude-code:anthropic']);
  const calls = exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat '));
  expect(calls.map((s) => s.attributes)).toEqual([
    expect.objectContaining({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic',
      'elexirion.provider': 'claude-code',
    }),
  ]);
  await tracing.shutdown();
});
