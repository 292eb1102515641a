// What the service sends back names files under --root relative to it: `(inline).yaml:3:21`, not
// the directory the server keeps its pipelines in.
import { afterEach, expect, it } from 'vitest';
import { type Harness, startHarness, waitForStatus } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('names inline and root files relative to --root in errors, diagnostics and run results', async () => {
  h = await startHarness();
  const invalid = await h.call('/runs', { json: { yaml: 'name: bad\nsteps:\n  - { name: a, type: nope }\n' } });
  expect(invalid.status).toBe(422);
  const invalidText = await invalid.text();
  expect(invalidText).not.toContain(h.root);
  expect((JSON.parse(invalidText) as { diagnostics: { file: string }[] }).diagnostics[0]?.file).toBe('(inline).yaml');

  const child = `name: outer
steps:
  - name: sub
    type: pipeline
    inputs: { n: many }
    pipeline:
      name: inner
      inputs: { n: { type: integer, required: true } }
      steps:
        - { name: s, type: mock, prompt: "{{ n }}" }
`;
  const started = await h.call('/runs', { json: { yaml: child, mock: true } });
  const { run_id } = (await started.json()) as { run_id: string };
  const run = await waitForStatus(h, run_id, 'failed');
  expect(run.error).toMatch(/\(inline\)\.yaml:8:\d+/);
  expect(JSON.stringify(run)).not.toContain(h.root);
});
