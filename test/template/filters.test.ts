import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CHARS_PER_TOKEN } from '../../src/template/liquid.js';
import { renderString, renderValue } from '../../src/template/render.js';
import { buildScope } from '../../src/template/scope.js';
import { TemplateError } from '../../src/template/template-error.js';

const data = { name: 'x', tags: ['a', 'b'], nested: { n: 1 } };
const scopeWith = (inputs: Record<string, unknown>) =>
  buildScope({ inputs, variables: {}, steps: {}, run: { id: 'r', pipeline: 'p' } });
const scope = scopeWith({ data, text: 'abcdefghij', emoji: 'abc😀def', nothing: null });

describe('json', () => {
  it('renders compact JSON that parses back to the value', () => {
    const text = renderString('{{ data | json }}', scope);
    expect(text).not.toContain('\n');
    expect(JSON.parse(text)).toEqual(data);
  });

  it('indents when given a number', () => {
    expect(renderString('{{ data | json: 2 }}', scope)).toBe(JSON.stringify(data, null, 2));
  });

  it('renders null as null', () => {
    expect(renderString('{{ nothing | json }}', scope)).toBe('null');
  });

  it('does not escape quotes or angle brackets as HTML', () => {
    expect(renderString('{{ v | json }}', scopeWith({ v: '<"&">' }))).toBe('"<\\"&\\">"');
  });
});

describe('yaml', () => {
  it('renders YAML that parses back to the value, without a trailing newline', () => {
    const text = renderString('{{ data | yaml }}', scope);
    expect(text.endsWith('\n')).toBe(false);
    expect(parseYaml(text)).toEqual(data);
  });
});

describe('truncate_tokens', () => {
  it('keeps at most N × 4 characters', () => {
    expect(renderString('{{ text | truncate_tokens: 2 }}', scope)).toBe('abcdefghij'.slice(0, 2 * CHARS_PER_TOKEN));
    expect(renderString('{{ text | truncate_tokens: 100 }}', scope)).toBe('abcdefghij');
  });

  it('does not cut a surrogate pair in half', () => {
    // 'abc😀def': the emoji takes characters 3 and 4; a cut after 4 characters would split it.
    expect(renderString('{{ emoji | truncate_tokens: 1 }}', scope)).toBe('abc');
  });

  it('truncates the JSON of a non-string value', () => {
    expect(renderValue('{{ data | truncate_tokens: 1 }}', scope)).toBe(JSON.stringify(data).slice(0, 4));
  });

  it('rejects a missing or fractional token count with a clear error', () => {
    for (const source of ['{{ text | truncate_tokens }}', '{{ text | truncate_tokens: 1.5 }}']) {
      expect(() => renderString(source, scope)).toThrow(TemplateError);
      expect(() => renderString(source, scope)).toThrow(/truncate_tokens needs a whole number/);
    }
  });
});

describe('unknown filters', () => {
  it('are an error, not a pass-through', () => {
    expect(() => renderString('{{ text | shout }}', scope)).toThrow(/unknown filter "shout"/);
  });
});
