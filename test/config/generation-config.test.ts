// `generation_config` is Gemini's generationConfig. The engine sends it to Gemini only — a Claude or
// OpenAI fallback of a Gemini step inherits it without sending it (test/engine/vendor-extras.test.ts)
// — so one written on a call that goes elsewhere would be silently ignored: it is a load error at
// its file:line:col instead.
import { describe, expect, it } from 'vitest';
import { diagnosticsOf, loads } from './diagnostics-of.js';

describe('generation_config on a call that does not go to Gemini', () => {
  it('is refused at its key on a claude step, with the provider named', () => {
    const [d, ...more] = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: a',
        '    type: claude',
        '    prompt: hi',
        '    generation_config: { topK: 3 }',
        '',
      ].join('\n'),
    );
    expect(more).toEqual([]);
    expect(d).toMatchObject({ file: 'p.yaml', line: 6, col: 5, path: 'steps[0].generation_config' });
    expect(d?.message).toBe(
      '`generation_config` is Gemini\'s, but this call goes to provider "anthropic", which does not take it',
    );
    expect(d?.hint).toMatch(/max_tokens, temperature, top_p, stop/);
  });

  it('is refused on an openai-type provider, an llm step by defaults.provider, a fallback and a batch template', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'defaults: { provider: openai }',
        'providers:',
        '  local: { type: openai, base_url: "http://127.0.0.1:11434/v1" }',
        'steps:',
        '  - { name: a, type: llm, prompt: hi, generation_config: { topK: 3 } }',
        '  - { name: b, type: gemini, provider: local, model: llama3.1:8b, prompt: hi, generation_config: { topK: 3 } }',
        '  - name: c',
        '    type: gemini',
        '    prompt: hi',
        '    on_error: fallback',
        '    fallback:',
        '      - { type: claude, generation_config: { topK: 2 } }',
        '  - name: d',
        '    type: batch',
        '    items: [1, 2]',
        '    step_template: { type: openai, prompt: "{{ item }}", generation_config: { topK: 3 } }',
        '',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.line])).toEqual([
      ['steps[0].generation_config', 6],
      ['steps[1].generation_config', 7],
      ['steps[2].fallback[0].generation_config', 13],
      ['steps[3].step_template.generation_config', 17],
    ]);
    expect(diagnostics[1]?.message).toContain('provider "local" (type openai)');
  });

  it('loads on Gemini calls (a declared gemini provider too), on a mock, and inherited by a fallback to another vendor', () => {
    loads(
      [
        'name: p',
        'providers:',
        '  vertexish: { type: gemini, base_url: "https://gemini.example" }',
        'steps:',
        '  - name: a',
        '    type: gemini',
        '    prompt: hi',
        '    generation_config: { topK: 3 }',
        '    on_error: fallback',
        '    fallback: [{ type: claude }, { type: openai }, { model: gemini-2.5-pro, generation_config: { topK: 1 } }]',
        '  - { name: b, type: llm, provider: vertexish, model: gemini-2.5-flash, prompt: hi, generation_config: { topK: 3 } }',
        '  - { name: c, type: mock, prompt: hi, generation_config: { topK: 3 } }',
        '',
      ].join('\n'),
    );
  });
});
