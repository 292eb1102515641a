// The spans a service exports go through the redactor of the service's own environment — the one
// it was given, which may hold keys that process.env does not.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, expect, it } from 'vitest';
import { createTracing } from '../../src/telemetry/tracing.js';
import { type Harness, startHarness, TOKEN, waitForStatus } from './harness.js';

const SECRET = 'svc-only-secret-0123456789';
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

it('redacts a secret of the service’s env from the error messages its spans export', async () => {
  expect(process.env.SERVICE_ONLY_KEY).toBeUndefined();
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing([new SimpleSpanProcessor(exporter)]);
  harness = await startHarness({ env: { ELEXIRION_TOKEN: TOKEN, SERVICE_ONLY_KEY: SECRET }, tracing });
  // The child's input check quotes the value it got: here, the secret.
  const yaml = `name: leak
inputs:
  s: { type: string, required: true }
steps:
  - name: child
    type: pipeline
    inputs: { n: "{{ s }}" }
    pipeline:
      name: inner
      inputs: { n: { type: integer, required: true } }
      steps:
        - { name: a, type: mock, prompt: "{{ n }}" }
`;
  const response = await harness.call('/runs', { json: { yaml, inputs: { s: SECRET } } });
  expect(response.status).toBe(202);
  const { run_id } = (await response.json()) as { run_id: string };
  await waitForStatus(harness, run_id, 'failed');
  await tracing.provider.forceFlush();
  const messages = exporter.getFinishedSpans().map((s) => s.status.message ?? '');
  expect(messages.some((m) => m.includes('must be integer'))).toBe(true);
  expect(messages.join('\n')).not.toContain(SECRET);
});
