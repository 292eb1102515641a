// A key indented deeper than its siblings was reported twice, both times at the value on the line
// above it ("4:11 nested mappings are not allowed in compact mappings" and "4:11 implicit keys need
// to be on a single line"): now once, at the key that is indented wrong, with the indentation to use.
import { describe, expect, it } from 'vitest';
import { loadPipelineFromString } from '../../src/config/loader.js';
import { ConfigError, type Diagnostic } from '../../src/errors.js';

function diagnosticsOf(lines: string[]): Diagnostic[] {
  try {
    loadPipelineFromString(`${lines.join('\n')}\n`, 'p.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error('expected the pipeline to be rejected');
}

const place = (d: Diagnostic) => `${d.line}:${d.col}`;

describe('an over-indented key', () => {
  it("in a step: one problem at the key's line, with the indentation of its siblings", () => {
    const diagnostics = diagnosticsOf([
      'name: p',
      'steps:',
      '  - name: a',
      '    type: mock',
      '      prompt: hi', // two spaces too far
    ]);
    expect(diagnostics.map(place)).toEqual(['5:7']);
    expect(diagnostics[0]?.message).toBe(
      'YAML syntax error: `prompt:` is indented deeper than `type:` on line 4 (6 spaces, not 4), ' +
        "so it reads as more of `type:`'s value",
    );
    expect(diagnostics[0]?.hint).toMatch(/^indent `prompt:` by 4 spaces, as `type:` is/);
  });

  it('at the top level, one space too far in a nested mapping, two keys in a row: each once', () => {
    const top = diagnosticsOf([
      'name: p',
      '  description: a test',
      'steps:',
      '  - { name: a, type: mock, prompt: hi }',
    ]);
    expect(top.map(place)).toEqual(['2:3']);
    expect(top[0]?.hint).toMatch(/^start `description:` at the beginning of the line, as `name:` is/);

    const nested = diagnosticsOf([
      'name: p',
      'steps:',
      '  - name: a',
      '    type: mock',
      '    prompt: hi',
      '    cache:',
      '      ttl: 1h',
      '       enabled: true', // one space too far
    ]);
    expect(nested.map(place)).toEqual(['8:8']);
    expect(nested[0]?.message).toContain('`enabled:` is indented deeper than `ttl:` on line 7 (7 spaces, not 6)');

    // Both keys under `type:` one level too deep: one problem, at the first.
    const twice = diagnosticsOf([
      'name: p',
      'steps:',
      '  - name: a',
      '    type: mock',
      '      prompt: hi',
      '      model: m',
    ]);
    expect(twice.map(place)).toEqual(['5:7']);
  });

  it('names the other reading too: a text with ": " continued on the next line', () => {
    const [d, ...more] = diagnosticsOf([
      'name: p',
      'steps:',
      '  - name: a',
      '    type: mock',
      '    prompt: Say',
      '      this: now',
    ]);
    expect(more).toEqual([]);
    expect(place(d as Diagnostic)).toBe('6:7');
    expect(d?.hint).toContain(
      "if the line is more text of `prompt:`'s value, quote that value or write it as a `|` block",
    );
  });
});
