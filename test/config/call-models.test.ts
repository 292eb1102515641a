// A call to a provider the pipeline names itself without a model was loaded, then sent at run time
// with the placeholder model "mock-1": an Ollama server answers "model not found", with no word of
// where "mock-1" came from — and a provider of the pipeline's naming on a vendor's API (`fast: {
// type: anthropic }`) sent "mock-1" to Anthropic. Now one on an endpoint of its own (`base_url`) is
// a load error at the call's file:line:col, and one on a vendor's API takes that vendor's default.
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { buildModelRequest } from '../../src/engine/steps/llm-request.js';
import { diagnosticsOf, loads } from './diagnostics-of.js';

const PROVIDERS = ['providers:', '  local: { type: openai, base_url: "http://localhost:11434/v1" }'];

describe('a call to a provider of the pipeline own without a model', () => {
  it('is refused at its provider:, saying what to add', () => {
    const [d, ...more] = diagnosticsOf(
      ['name: p', ...PROVIDERS, 'steps:', '  - name: a', '    type: llm', '    provider: local', '    prompt: hi'].join(
        '\n',
      ),
    );
    expect(more).toEqual([]);
    expect(d).toMatchObject({ file: 'p.yaml', line: 7, col: 15, path: 'steps[0].provider' });
    expect(d?.message).toBe(
      'no model for this call to provider "local": a provider on an endpoint of its own (base_url) has no default model',
    );
    expect(d?.hint).toBe(
      'add `model:` to the call (steps[0]): the name its server knows the model by, e.g. llama3.1:8b',
    );
  });

  it('by defaults.provider, in a fallback, a batch template and a parallel group', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        ...PROVIDERS,
        'defaults: { provider: local }',
        'steps:',
        '  - { name: a, type: llm, prompt: hi }',
        '  - { name: b, type: claude, prompt: hi, on_error: fallback, fallback: [{ type: openai, provider: local }] }',
        '  - name: c',
        '    type: batch',
        '    items: [1]',
        '    step_template: { type: llm, prompt: "{{ item }}" }',
        '  - name: d',
        '    type: parallel',
        '    steps: [{ name: e, type: openai, provider: local, prompt: hi }]',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => d.path)).toEqual([
      'steps[0]',
      'steps[1].fallback[0].provider',
      'steps[2].step_template',
      'steps[3].steps[0].provider',
    ]);
    expect(diagnostics[0]?.message).toContain('provider "local" (from `defaults.provider`)');
  });

  it('says when defaults.model goes to another provider', () => {
    const [d] = diagnosticsOf(
      [
        'name: p',
        ...PROVIDERS,
        'defaults: { provider: anthropic, model: claude-haiku-4-5 }',
        'steps:',
        '  - { name: a, type: openai, provider: local, prompt: hi }',
      ].join('\n'),
    );
    expect(d?.hint).toMatch(/`defaults.model` goes to provider "anthropic" only$/);
  });

  it('loads with a model of its own, inherited from the step or from defaults, and on built-ins and mocks', () => {
    loads(
      [
        'name: p',
        ...PROVIDERS,
        '  fake: { type: mock }',
        'steps:',
        '  - { name: a, type: llm, provider: local, model: "llama3.1:8b", prompt: hi }',
        '  - { name: b, type: llm, provider: fake, prompt: hi }',
        '  - { name: c, type: openai, prompt: hi }',
        '  - name: d',
        '    type: llm',
        '    provider: local',
        '    model: qwen3',
        '    prompt: hi',
        '    on_error: fallback',
        '    fallback: { temperature: 0.1 }',
      ].join('\n'),
    );
    loads(
      [
        'name: p',
        ...PROVIDERS,
        'defaults: { model: qwen3 }',
        'steps:',
        '  - { name: a, type: llm, provider: local, prompt: hi }',
      ].join('\n'),
    );
  });

  it('checks an inline child pipeline with its own providers', () => {
    const [d] = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: child',
        '    type: pipeline',
        '    pipeline:',
        '      name: c',
        '      providers: { local: { type: openai, base_url: "http://localhost:11434/v1" } }',
        '      steps: [{ name: a, type: llm, provider: local, prompt: hi }]',
      ].join('\n'),
    );
    expect(d?.path).toBe('steps[0].pipeline.steps[0].provider');
  });
});

describe('a call to a provider of the pipeline own on a vendor API, without a model', () => {
  it("loads, and goes out with that vendor's default model", () => {
    const source = [
      'name: p',
      'providers:',
      '  fast: { type: anthropic, api_key_env: OTHER_ANTHROPIC_KEY }',
      '  flash: { type: gemini }',
      '  oai: { type: openai }',
      'steps:',
      '  - { name: a, type: llm, provider: fast, prompt: hi }',
      '  - { name: b, type: llm, provider: flash, prompt: hi }',
      '  - { name: c, type: llm, provider: oai, prompt: hi }',
    ].join('\n');
    const { pipeline } = loadPipelineFromString(source, 'p.yaml');
    const models = pipeline.steps.map(
      (step) =>
        buildModelRequest(step as Parameters<typeof buildModelRequest>[0], {}, {} as never, {
          mock: false,
          providers: pipeline.providers,
        }).model,
    );
    expect(models).toEqual(['claude-sonnet-4-5', 'gemini-2.5-flash', 'gpt-4.1-mini']);
  });
});
