// An `integer` input past ±(2^53 - 1) is refused, not rounded: a double does not hold every whole
// number that large, and `--input id=12345678901234567890` ran with 12345678901234567000 — another
// number, without a word. The same holds for a default in the pipeline (checked at load time).
import { describe, expect, it } from 'vitest';
import { resolveInputs } from '../../src/config/inputs.js';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError, type Diagnostic } from '../../src/errors.js';

const source = (declaration: string) =>
  `name: p\ninputs:\n  id: ${declaration}\nsteps:\n  - { name: a, type: mock, prompt: "{{ id }}" }\n`;

function diagnosticsOf(run: () => unknown): Diagnostic[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('integer inputs past the safe integers', () => {
  const loaded = loadPipelineFromString(source('{ type: integer, required: true }'), 'p.yaml');

  it('are refused from the command line, saying what the number would have become', () => {
    const [problem] = diagnosticsOf(() => resolveInputs(loaded, { id: '12345678901234567890' }));
    expect(problem).toMatchObject({ path: 'inputs.id', line: 3 });
    expect(problem?.message).toBe(
      'input "id" is 12345678901234567890, a whole number past ±9007199254740991, which a number does not hold exactly (it would become 12345678901234567000)',
    );
    expect(problem?.hint).toContain('type: string');
  });

  it('are refused from JSON (already a number there), negative ones too', () => {
    expect(diagnosticsOf(() => resolveInputs(loaded, { id: 2 ** 60 }))[0]?.message).toMatch(
      /^input "id" is 1152921504606847000, a whole number past/,
    );
    expect(diagnosticsOf(() => resolveInputs(loaded, { id: '-9007199254740993' }))[0]?.message).toContain(
      'it would become -9007199254740992',
    );
  });

  it('the largest safe integers are still accepted', () => {
    expect(resolveInputs(loaded, { id: '9007199254740991' })).toEqual({ id: 9007199254740991 });
    expect(resolveInputs(loaded, { id: -9007199254740991 })).toEqual({ id: -9007199254740991 });
  });

  it('a default past them is an error at load time, at the default', () => {
    const [problem] = diagnosticsOf(() =>
      loadPipelineFromString(source('{ type: integer, default: 12345678901234567890 }'), 'p.yaml'),
    );
    expect(problem).toMatchObject({ path: 'inputs.id.default', line: 3 });
    expect(problem?.message).toContain('a whole number past ±9007199254740991');
  });
});
