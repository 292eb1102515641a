import { describe, expect, it } from 'vitest';
import { listReferences } from '../../src/template/references.js';
import { TemplateError } from '../../src/template/template-error.js';

describe('listReferences', () => {
  it('lists each variable read as a path with its offset', () => {
    const source = 'Plan {{ steps.plan.output }} for {{ focus | upcase }}';
    expect(listReferences(source)).toEqual([
      { path: ['steps', 'plan', 'output'], dynamic: false, offset: source.indexOf('steps') },
      { path: ['focus'], dynamic: false, offset: source.indexOf('focus') },
    ]);
  });

  it('locates references on later lines', () => {
    const source = 'line one\n  line two {{ a.b }}\n{% if c > 1 %}x{% endif %}';
    const refs = listReferences(source);
    expect(refs.map((r) => [r.path, r.offset])).toEqual([
      [['a', 'b'], source.indexOf('a.b')],
      [['c'], source.indexOf('c > 1')],
    ]);
  });

  it('reads bracket paths and indexes, and cuts a path at a computed segment', () => {
    const source = "{{ steps['plan'].output[0] }} {{ steps[name].output }}";
    const refs = listReferences(source);
    expect(refs).toContainEqual({ path: ['steps', 'plan', 'output', 0], dynamic: false, offset: 3 });
    expect(refs).toContainEqual({ path: ['steps'], dynamic: true, offset: source.indexOf('steps[name]') });
    expect(refs).toContainEqual({ path: ['name'], dynamic: false, offset: source.indexOf('name]') });
  });

  it('lists variables inside tags and filter arguments', () => {
    const source = '{% if x %}{{ y | append: z }}{% endif %}{% echo w %}';
    expect(listReferences(source).map((r) => r.path[0])).toEqual(['x', 'y', 'z', 'w']);
  });

  it('leaves out locals declared by assign, capture and for', () => {
    const source =
      '{% assign n = files | size %}{% capture c %}{{ m }}{% endcapture %}' +
      '{% for f in files %}{{ f }}{{ forloop.index }}{% endfor %}{{ n }}{{ c }}';
    expect(listReferences(source).map((r) => r.path.join('.'))).toEqual(['files', 'm', 'files']);
  });

  it('lists a name read before it is assigned', () => {
    expect(listReferences('{{ n }}{% assign n = 1 %}{{ n }}').map((r) => r.offset)).toEqual([3]);
  });

  it('has no references in plain text', () => {
    expect(listReferences('just text')).toEqual([]);
  });

  it('reports a syntax error with its offset', () => {
    const source = 'ok\n{% for x in xs %}never closed';
    const error = catchError(() => listReferences(source)) as TemplateError;
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.offset).toBe(3);
  });

  it('reports an unknown filter at the filter name, with a suggestion', () => {
    const source = '{{ steps.a.output | jsno }}';
    const error = catchError(() => listReferences(source)) as TemplateError;
    expect(error.message).toContain('unknown filter "jsno"');
    expect(error.offset).toBe(source.indexOf('jsno'));
    expect(error.hint).toBe('did you mean "json"?');
  });
});

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
