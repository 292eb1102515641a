// The format takes a temperature from 0 to 2 (OpenAI's and Gemini's range); the Messages API takes
// 0 to 1 and refuses more with a 400. Every call's provider and temperature are known at load
// time, so a Claude call above 1 is a load error at its file:line:col — its own temperature, one a
// fallback inherits from its step, or `defaults.temperature` — rather than a failure at run time,
// after the steps before it have run and been paid for.
import { describe, expect, it } from 'vitest';
import { diagnosticsOf, loads } from './diagnostics-of.js';

describe('a temperature above 1 on a call to Claude', () => {
  it('is refused at its place on a claude step', () => {
    const [d, ...more] = diagnosticsOf(
      ['name: p', 'steps:', '  - name: a', '    type: claude', '    prompt: hi', '    temperature: 1.5', ''].join('\n'),
    );
    expect(more).toEqual([]);
    expect(d).toMatchObject({ file: 'p.yaml', line: 6, col: 18, path: 'steps[0].temperature' });
    expect(d?.message).toBe(
      "temperature 1.5 is out of range for Claude: the Messages API accepts 0 to 1 (0–2 is OpenAI's and Gemini's range)",
    );
    expect(d?.hint).toMatch(/from 0 to 1/);
  });

  it('is refused for any provider of type anthropic, and an llm step calling it by defaults.provider', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'defaults: { provider: gateway, model: claude-sonnet-4-5 }',
        'providers:',
        '  gateway: { type: anthropic, base_url: "https://gw.example", api_key_env: GW_KEY }',
        'steps:',
        '  - { name: a, type: llm, prompt: hi, temperature: 1.2 }',
        '  - { name: b, type: openai, provider: gateway, prompt: hi, temperature: 1.3 }',
        '',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.line])).toEqual([
      ['steps[0].temperature', 6],
      ['steps[1].temperature', 7],
    ]);
    expect(diagnostics[0]?.message).toMatch(/^temperature 1\.2 is out of range for Claude \(provider "gateway"\)/);
  });

  it('is refused where a Claude call inherits it from defaults.temperature, naming where it comes from', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'defaults: { temperature: 1.2 }',
        'steps:',
        '  - { name: a, type: claude, prompt: hi }',
        '  - { name: b, type: claude, prompt: hi, temperature: 0.7 }',
        '  - { name: c, type: gemini, prompt: hi }',
        '',
      ].join('\n'),
    );
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ path: 'steps[0]', line: 4 });
    expect(diagnostics[0]?.message).toBe(
      'this call goes to Claude with temperature 1.2, from `defaults.temperature` (defaults.temperature), but the Messages API accepts 0 to 1',
    );
    expect(diagnostics[0]?.hint).toMatch(/temperature:. of its own, from 0 to 1/);
  });

  it('is refused on a Claude fallback of a step at 1.2 (the fallback inherits the step’s temperature)', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: a',
        '    type: openai',
        '    prompt: hi',
        '    temperature: 1.2',
        '    on_error: fallback',
        '    fallback:',
        '      - { type: gemini }',
        '      - { provider: anthropic, model: claude-haiku-4-5 }',
        '      - { type: claude, temperature: 0.9 }',
        '      - { type: claude, temperature: 1.4 }',
        '',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => [d.path, d.line])).toEqual([
      ['steps[0].fallback[1].provider', 10],
      ['steps[0].fallback[3].temperature', 12],
    ]);
    expect(diagnostics[0]?.message).toBe(
      "this call goes to Claude with temperature 1.2, from the step's `temperature` (steps[0].temperature), but the Messages API accepts 0 to 1",
    );
  });

  it('is refused in a batch template, its fallbacks, a claude_code fallback, a parallel group and an inline pipeline', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'steps:',
        '  - name: b',
        '    type: claude_batch',
        '    items: [1, 2]',
        '    step_template: { type: claude, prompt: "{{ item }}", temperature: 1.1 }',
        '  - name: c',
        '    type: batch',
        '    items: [1]',
        '    step_template:',
        '      type: gemini',
        '      prompt: "{{ item }}"',
        '      temperature: 1.5',
        '      fallback: { type: claude }',
        '  - name: d',
        '    type: claude_code',
        '    prompt: hi',
        '    fallback: { type: claude, prompt: hi, temperature: 2 }',
        '  - name: e',
        '    type: parallel',
        '    steps:',
        '      - { name: f, type: claude, prompt: hi, temperature: 1.01 }',
        '  - name: g',
        '    type: pipeline',
        '    pipeline:',
        '      name: child',
        '      defaults: { temperature: 1.3 }',
        '      steps:',
        '        - { name: h, type: claude, prompt: hi }',
        '',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => d.path)).toEqual([
      'steps[0].step_template.temperature',
      // A fallback of another type names no provider: the call is at the fallback itself.
      'steps[1].step_template.fallback',
      'steps[2].fallback.temperature',
      'steps[3].steps[0].temperature',
      'steps[4].pipeline.steps[0]',
    ]);
  });

  it('is accepted from 0 to 1, and above 1 for every other provider (and mock)', () => {
    loads(
      [
        'name: p',
        'defaults: { temperature: 1.8 }',
        'steps:',
        '  - { name: a, type: claude, prompt: hi, temperature: 1 }',
        '  - { name: b, type: claude, prompt: hi, temperature: 0 }',
        '  - { name: c, type: openai, prompt: hi, temperature: 2 }',
        '  - { name: d, type: gemini, prompt: hi }',
        '  - { name: e, type: mock, prompt: hi, temperature: 1.7 }',
        '  - name: f',
        '    type: claude',
        '    prompt: hi',
        '    temperature: 0.5',
        '    fallback: { type: openai }',
        '',
      ].join('\n'),
    );
  });
});
