// A claude_code step without `model:` announces its call as model "default" and reports the response
// under the model Claude Code's init message names: the call's span is still the one its request
// opened, ended (the tracer paired by model, left that span open — never exported, kept for the
// life of the process — and made a second, bogus one).
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { attachTracing, createTracing } from '../../src/telemetry/tracing.js';
import { FAKE_CLAUDE, PASS_FAKE_ENV } from './harness.js';
import { useWorkspace } from './per-test.js';

const { ws } = useWorkspace();

it('one call span per claude_code session, the one its request opened, ended', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  const starts: string[] = [];
  const ends: string[] = [];
  const real = tracing.tracer.startSpan.bind(tracing.tracer);
  tracing.tracer.startSpan = (
    name: string,
    ...rest: Parameters<typeof real> extends [string, ...infer R] ? R : never
  ) => {
    starts.push(name);
    const span = real(name, ...rest);
    const end = span.end.bind(span);
    span.end = (t?: Parameters<typeof span.end>[0]) => {
      ends.push(name);
      end(t);
    };
    return span;
  };
  attachTracing(ws.engine.bus, tracing.tracer);
  const { result } = await ws.run(`name: cc
steps:
  - name: fix
    type: claude_code
    executable: ${FAKE_CLAUDE}
    ${PASS_FAKE_ENV}
    prompt: "fix it"
`);
  expect(result.status).toBe('succeeded');
  const callStarts = starts.filter((n) => n.startsWith('chat '));
  const callEnds = ends.filter((n) => n.startsWith('chat '));
  expect(callStarts).toHaveLength(1); // one session, one call span
  expect(callEnds).toEqual(callStarts); // …and it is ended (exported)
});
