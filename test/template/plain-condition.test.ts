// A `when:` without `{{ … }}` renders as itself: any text but a falsy word is true, so
// `when: "steps.check.output == 'ok'"` (braces forgotten) or YAML 1.1's `when: no` ran the step
// every time. Refused at load time, at the condition; constants written as such are still fine.
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError, type Diagnostic } from '../../src/errors.js';

function diagnosticsOf(when: string): Diagnostic[] {
  const source = [
    'name: p',
    'steps:',
    '  - { name: check, type: mock, prompt: hi }',
    '  - name: fix',
    '    type: mock',
    '    prompt: hi',
    `    when: ${when}`,
    '  - name: group',
    '    type: parallel',
    '    steps:',
    `      - { name: sub, type: mock, prompt: hi, when: ${when} }`,
  ].join('\n');
  try {
    loadPipelineFromString(source, 'p.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  return [];
}

describe('a when: that is plain text', () => {
  it('is refused when it reads like a condition without its braces, with the braces as the hint', () => {
    const [step, sub] = diagnosticsOf(`"steps.check.output == 'ok'"`);
    expect(step).toMatchObject({
      path: 'steps[1].when',
      line: 7,
      col: 11,
      message: '`when` is the plain text "steps.check.output == \'ok\'", which is always true: it holds no {{ … }}',
    });
    expect(step?.hint).toContain(`when: "{{ steps.check.output == 'ok' }}"`);
    expect(sub).toMatchObject({ path: 'steps[2].steps[0].when', line: 11 });
  });

  it('is refused for YAML 1.1 booleans, which YAML 1.2 reads as (true) text', () => {
    const [problem] = diagnosticsOf('no');
    expect(problem?.message).toContain('the plain text "no", which is always true');
    expect(problem?.hint).toBe('YAML 1.2 reads no as text, not as a boolean: write "true" or "false"');
  });

  it.each([
    '"true"',
    '"false"',
    "'0'",
    '"null"',
    '"  FALSE "',
    '"{{ steps.check.output }}"',
    `"{% if true %}x{% endif %}"`,
  ])('accepts a constant written as one, and any template: %s', (when) => {
    expect(diagnosticsOf(when)).toEqual([]);
  });
});
