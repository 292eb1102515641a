// A provider the pipeline declares with `type: mock` under a name of its own is an offline stand-in
// that answers without `--mock` (as the built-in `mock` does), through a gate of its own. It used
// to fail every call: "no implementation registered for provider type mock".
import { describe, expect, it } from 'vitest';
import { newEngine, pipelineFile } from './harness.js';

describe('a provider declared with type: mock', () => {
  it('answers without --mock, under its own name', async () => {
    const engine = newEngine();
    const { load } = pipelineFile(
      [
        'name: declared-mock',
        'providers:',
        '  rehearsal: { type: mock }',
        'steps:',
        '  - { name: a, type: llm, provider: rehearsal, model: m1, prompt: hello }',
      ].join('\n'),
    );
    const result = await (await engine.start(load())).result;
    expect(result.status).toBe('succeeded');
    expect(result.steps[0]?.output).toEqual(expect.any(String));
    expect(result.steps[0]?.details).toMatchObject({ provider: 'rehearsal', model: 'm1', calls: 1 });
    expect(engine.gates.summary().map((g) => g.provider)).toContain('rehearsal');
  });
});
