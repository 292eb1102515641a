// A number where the schema takes a number, refused all the same — too big for a timer, not whole,
// not finite (YAML's `.inf`, `.nan`, or digits past what a double holds) — is told as such, once,
// with the key's own bound and a hint that would fix it: never "put it in quotes", which yields a
// string the key refuses too.
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError, type Diagnostic } from '../../src/errors.js';

function diagnosticsOf(setting: string): Diagnostic[] {
  const source = `name: p\nsteps:\n  - name: a\n    type: mock\n    prompt: hi\n    ${setting}\n`;
  try {
    loadPipelineFromString(source, 'p.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('numbers the schema refuses', () => {
  it('a timer duration past the safe integers is told its own limit (596h), and only that', () => {
    const diagnostics = diagnosticsOf('timeout: 99999999999999999999');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.message).toMatch(/is too long: at most 596h/);
    expect(diagnostics[0]?.message).not.toContain('9007199254740991');
  });

  it.each([
    ['timeout: 1.5', 'steps[0].timeout', 'got the number 1.5'],
    ['latency: .inf', 'steps[0].latency', 'got an infinite number (.inf,'],
    ['retry: { base_delay: 1e400 }', 'steps[0].retry.base_delay', 'got an infinite number'],
  ])('a duration written as a bad number gets the duration hint: %s', (setting, path, got) => {
    const [problem] = diagnosticsOf(setting);
    expect(problem).toMatchObject({ path, line: 6 });
    expect(problem?.message).toContain(got);
    expect(problem?.hint).toBe('a number and a unit with no space (250ms, 30s, 5m, 1h), or a number of milliseconds');
  });

  it.each([
    ['temperature: .nan', 'got .nan (not a number)'],
    ['temperature: -.inf', 'got an infinite number (-.inf,'],
    ['retry: { max_attempts: 1e400 }', 'got an infinite number'],
  ])('a value that is no finite number says so, not "expected a number, got the number NaN": %s', (setting, got) => {
    const [problem] = diagnosticsOf(setting);
    expect(problem?.message).toContain(got);
    expect(problem?.message).not.toMatch(/the number (NaN|-?Infinity)/);
    expect(problem?.hint).not.toMatch(/quotes/);
  });

  it('a fraction where a whole number is wanted is told to be whole', () => {
    const [problem] = diagnosticsOf('retry: { max_attempts: 2.5 }');
    expect(problem).toMatchObject({ message: 'expected an integer, got the number 2.5', hint: 'write a whole number' });
  });

  it('a number where only text is wanted still gets the quoting hint', () => {
    const [problem] = diagnosticsOf('system: 42');
    expect(problem?.hint).toBe('put it in quotes to make it text: "42"');
  });
});
