import { describe, expect, it } from 'vitest';
import { ElexirionError, ExitCode } from '../../src/errors.js';
import { clearParseCache, parseCacheStats } from '../../src/template/parse-cache.js';
import { evaluateCondition, renderDeep, renderString, renderValue } from '../../src/template/render.js';
import { buildScope, type TemplateScope } from '../../src/template/scope.js';
import { TemplateError } from '../../src/template/template-error.js';

function scope(extra: Partial<Parameters<typeof buildScope>[0]> = {}): TemplateScope {
  return buildScope({
    inputs: { source_files: ['a.ts', 'b.ts'], focus: 'bugs', limit: 3 },
    variables: { tone: 'terse' },
    steps: {
      plan: { output: 'Read a.ts first', usage: { input_tokens: 10, output_tokens: 5 }, cost_usd: 0.01, status: 'ok' },
      summary: { output: { verdict: 'needs_work', issues: ['x', 'y'], score: 4 }, status: 'ok' },
    },
    run: { id: 'run_1', pipeline: 'code-review' },
    ...extra,
  });
}

describe('renderString', () => {
  it('renders inputs, variables, steps and run, at top level and by namespace', () => {
    const text = renderString(
      '{{ focus }}/{{ inputs.focus }} {{ tone }}/{{ variables.tone }} {{ steps.plan.output }} {{ run.id }} {{ run.pipeline }}',
      scope(),
    );
    expect(text).toBe('bugs/bugs terse/terse Read a.ts first run_1 code-review');
  });

  it('returns plain text as is without parsing it', () => {
    clearParseCache();
    expect(renderString('no markup here { not a tag }', scope())).toBe('no markup here { not a tag }');
    expect(parseCacheStats().parses).toBe(0);
  });

  it('supports Liquid tags and locals', () => {
    const text = renderString(
      '{% assign n = source_files | size %}{% for f in source_files %}{{ f }};{% endfor %}{{ n }}',
      scope(),
    );
    expect(text).toBe('a.ts;b.ts;2');
  });

  it('does not escape HTML', () => {
    expect(renderString('{{ x }}', buildScope({ ...parts(), inputs: { x: '<b>&</b>' } }))).toBe('<b>&</b>');
  });

  it('throws a TemplateError naming the undefined variable and quoting the template', () => {
    const error = catchError(() => renderString('Plan: {{ steps.plam.output }} done', scope()));
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toBeInstanceOf(ElexirionError);
    expect((error as TemplateError).exitCode).toBe(ExitCode.runFailed);
    expect((error as TemplateError).variable).toBe('steps.plam');
    expect((error as TemplateError).offset).toBe(9);
    expect((error as Error).message).toContain('undefined variable "steps.plam"');
    expect((error as Error).message).toContain('Plan: {{ steps.plam.output }} done');
  });

  it('treats a missing property of a defined object as undefined too', () => {
    const error = catchError(() => renderString('{{ steps.summary.output.verdcit }}', scope()));
    expect((error as TemplateError).variable).toBe('steps.summary.output.verdcit');
  });

  it('has no item or index outside a batch', () => {
    expect((catchError(() => renderString('{{ item }}', scope())) as TemplateError).variable).toBe('item');
    expect(renderString('{{ index }}: {{ item }}', scope({ item: 'a.ts', index: 0 }))).toBe('0: a.ts');
  });

  it('lets `default` and `if` test an absent name', () => {
    expect(renderString("{{ steps.fix.output | default: 'none' }}", scope())).toBe('none');
    expect(renderString('{% if steps.fix %}y{% else %}n{% endif %}', scope())).toBe('n');
  });

  it('cannot read files through include, render or layout', () => {
    for (const tag of ["{% include 'x' %}", "{% render '/etc/passwd' %}", "{% layout 'x' %}"]) {
      const error = catchError(() => renderString(tag, scope()));
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as Error).message).toMatch(/tag ".+" not found/);
    }
  });

  it('reports a syntax error with its offset', () => {
    const error = catchError(() => renderString('ok\n{% if focus %} never closed', scope())) as TemplateError;
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.offset).toBe(3);
    expect(error.message).toContain('not closed');
  });

  it('does not read inherited properties', () => {
    expect(catchError(() => renderString('{{ inputs.constructor }}', scope()))).toBeInstanceOf(TemplateError);
  });
});

describe('buildScope', () => {
  it('lets a variable win over an input of the same name at top level; the input stays under inputs', () => {
    const s = buildScope({ ...parts(), inputs: { focus: 'bugs' }, variables: { focus: 'style' } });
    expect(renderString('{{ focus }} {{ inputs.focus }} {{ variables.focus }}', s)).toBe('style bugs style');
  });

  it('keeps the built-in names over inputs of the same name', () => {
    const s = buildScope({ ...parts(), inputs: { run: 'mine' } });
    expect(renderString('{{ run.id }} {{ inputs.run }}', s)).toBe('run_1 mine');
  });
});

describe('renderValue', () => {
  it('returns the raw value of a single output tag', () => {
    expect(renderValue('{{ source_files }}', scope())).toEqual(['a.ts', 'b.ts']);
    expect(renderValue('  {{ steps.summary.output }}\n', scope())).toEqual({
      verdict: 'needs_work',
      issues: ['x', 'y'],
      score: 4,
    });
    expect(renderValue('{{ limit }}', scope())).toBe(3);
    expect(renderValue('{{ source_files | first }}', scope())).toBe('a.ts');
    expect(renderValue('{{ source_files | size }}', scope())).toBe(2);
  });

  it('renders to a string when there is more than one output tag', () => {
    expect(renderValue('{{ limit }}{{ limit }}', scope())).toBe('33');
    expect(renderValue('n={{ limit }}', scope())).toBe('n=3');
    expect(renderValue('{% if true %}{{ limit }}{% endif %}', scope())).toBe('3');
  });

  it('reports an undefined variable in a single output tag', () => {
    const error = catchError(() => renderValue('  {{ nope }}', scope())) as TemplateError;
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.variable).toBe('nope');
    expect(error.offset).toBe(5);
  });
});

describe('renderDeep', () => {
  it('renders every string inside objects and arrays, keeping raw values', () => {
    const value = { files: '{{ source_files }}', nested: [{ text: 'focus on {{ focus }}' }, 7, null, true] };
    expect(renderDeep(value, scope())).toEqual({
      files: ['a.ts', 'b.ts'],
      nested: [{ text: 'focus on bugs' }, 7, null, true],
    });
  });
});

describe('evaluateCondition', () => {
  it.each([
    ['{{ steps.summary.output.verdict == "needs_work" }}', true],
    ["{{ steps.summary.output.verdict == 'ok' }}", false],
    ["{{ steps.summary.output.verdict != 'ok' }}", true],
    ['{{ steps.summary.output.score > 3 }}', true],
    ['{{ steps.summary.output.score < 3 }}', false],
    ["{{ steps.summary.output.issues contains 'y' and limit >= 3 }}", true],
    ["{{ steps.summary.output.issues contains 'z' or focus == 'style' }}", false],
    ['{% if limit > 2 %}yes{% endif %}', true],
    ['{% if limit > 5 %}yes{% endif %}', false],
  ])('%s is %s', (source, expected) => {
    expect(evaluateCondition(source, scope())).toBe(expected);
  });

  it.each([
    ['', false],
    ['   ', false],
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['nil', false],
    ['null', false],
    ['no', true],
    ['00', true],
    ['true', true],
    ['[]', false],
    ['{}', false],
    ['[0]', true],
  ])('the text %j is %s', (text, expected) => {
    const s = buildScope({ ...parts(), inputs: { flag: text } });
    expect(evaluateCondition('{{ flag }}', s)).toBe(expected);
  });
});

describe('a condition on a list or a map', () => {
  it.each([
    [[], false],
    [{}, false],
    [[0], true],
    [[null], true],
    [{ a: null }, true],
  ])('%j is %s', (value, expected) => {
    const s = buildScope({ ...parts(), steps: { find: { output: value, status: 'ok' } } });
    expect(evaluateCondition('{{ steps.find.output }}', s)).toBe(expected);
    expect(evaluateCondition('  {{ steps.find.output }} ', s)).toBe(expected);
  });
});

describe('the parse cache', () => {
  it('parses a template once however often it is rendered', () => {
    clearParseCache();
    const s = scope();
    for (let i = 0; i < 10_000; i++) renderString('Analyze {{ item }} for {{ focus }}', { ...s, item: i });
    const stats = parseCacheStats();
    expect(stats.parses).toBe(1);
    expect(stats.hits).toBe(9_999);
  });
});

function parts() {
  return { inputs: {}, variables: {}, steps: {}, run: { id: 'run_1', pipeline: 'p' } };
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('printing structured values', () => {
  it('prints an object or array inside text as JSON, not [object Object]', () => {
    const s = buildScope({
      inputs: { files: ['a.ts', 'b.ts'] },
      variables: {},
      steps: { triage: { output: { verdict: 'ok', issues: [] } } },
      run: { id: 'r', pipeline: 'p' },
    });
    expect(renderString('Findings: {{ steps.triage.output }}', s)).toBe('Findings: {"verdict":"ok","issues":[]}');
    expect(renderString('Files: {{ files }}', s)).toBe('Files: ["a.ts","b.ts"]');
    expect(renderString('{{ files | join: ", " }}', s)).toBe('a.ts, b.ts');
    expect(renderValue('{{ files }}', s)).toEqual(['a.ts', 'b.ts']);
  });
});
