// `timeout: 5` is 5 ms (a number without a unit is milliseconds): a first pipeline's forgotten `s`
// loaded fine and timed every attempt out, retried, then failed the run. Below a second, a unitless
// timeout, ttl or recovery_timeout is refused at its file:line:col with the unit to write.
import { describe, expect, it } from 'vitest';
import { diagnosticsOf, loads } from './diagnostics-of.js';

describe('a duration without a unit, under a second', () => {
  it('`timeout: 5` on a step: refused at its value, the unit suggested', () => {
    const [d, ...more] = diagnosticsOf(
      ['name: p', 'steps:', '  - name: a', '    type: mock', '    prompt: hi', '    timeout: 5'].join('\n'),
    );
    expect(more).toEqual([]);
    expect(d).toEqual({
      file: 'p.yaml',
      line: 6,
      col: 14,
      path: 'steps[0].timeout',
      message: '`timeout: 5` has no unit, so it is 5 ms, which no call finishes in',
      hint: 'write the unit: `5s` for seconds (or `5ms` if milliseconds are meant)',
    });
  });

  it('everywhere a timeout, ttl or recovery_timeout is written', () => {
    const diagnostics = diagnosticsOf(
      [
        'name: p',
        'defaults: { timeout: 0, cache: { ttl: 60 } }',
        'providers:',
        '  anthropic: { timeout: 30, circuit_breaker: { recovery_timeout: 10 } }',
        'steps:',
        '  - { name: a, type: claude, prompt: hi, on_error: fallback, fallback: [{ type: gemini, timeout: 20 }] }',
        '  - name: b',
        '    type: batch',
        '    items: [1]',
        '    step_template: { type: mock, prompt: "{{ item }}", cache: { ttl: 0 } }',
        '  - { name: c, type: parallel, steps: [{ name: d, type: mock, prompt: hi, timeout: 999 }] }',
        '  - name: e',
        '    type: pipeline',
        '    pipeline: { name: child, steps: [{ name: f, type: mock, prompt: hi, timeout: 1 }] }',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => d.path)).toEqual([
      'defaults.timeout',
      'defaults.cache.ttl',
      'providers.anthropic.timeout',
      'providers.anthropic.circuit_breaker.recovery_timeout',
      'steps[0].fallback[0].timeout',
      'steps[1].step_template.cache.ttl',
      'steps[2].steps[0].timeout',
      'steps[3].pipeline.steps[0].timeout',
    ]);
    expect(diagnostics[0]?.hint).toMatch(/there is no "no timeout"/);
    expect(diagnostics[5]?.hint).toMatch(/`cache: false`/);
  });

  it('loads with a unit (milliseconds on purpose too), from a second up, and small latencies and delays', () => {
    loads(
      [
        'name: p',
        'defaults: { timeout: 1000, retry: { base_delay: 5, max_delay: 50 }, cache: { ttl: 3600000 } }',
        'steps:',
        '  - { name: a, type: mock, prompt: hi, timeout: 5ms, latency: 5 }',
        '  - { name: b, type: mock, prompt: hi, timeout: 30s, cache: false }',
      ].join('\n'),
    );
  });
});
