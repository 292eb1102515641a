import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { createLocator } from '../../src/config/positions.js';

function locator(source: string) {
  const lineCounter = new LineCounter();
  return createLocator(parseDocument(source, { lineCounter }), lineCounter, source);
}

describe('createLocator', () => {
  const source = [
    'name: p', //                                   line 1
    'steps:', //                                    line 2
    '  - name: a', //                               line 3
    '    plain: read {{ x }}', //                    line 4
    '    quoted: "read {{ x }}"', //                 line 5
    '    escaped: "tab\\there {{ x }}"', //          line 6
    '    block: |', //                               line 7
    '      one', //                                  line 8
    '        two {{ x }}', //                        line 9
  ].join('\n');
  const locate = locator(source);

  it('points at values, or at keys when asked', () => {
    expect(locate(['steps', 0, 'name'])).toEqual({ line: 3, col: 11 });
    expect(locate(['steps', 0, 'name'], { at: 'key' })).toEqual({ line: 3, col: 5 });
    expect(locate([])).toEqual({ line: 1, col: 1 });
  });

  it('adds an offset inside plain and quoted single-line scalars', () => {
    expect(locate(['steps', 0, 'plain'], { offset: 5 })).toEqual({ line: 4, col: 17 });
    expect(locate(['steps', 0, 'quoted'], { offset: 5 })).toEqual({ line: 5, col: 19 });
  });

  it('falls back to the value start when escapes make the offset unreliable', () => {
    expect(locate(['steps', 0, 'escaped'], { offset: 9 })).toEqual({ line: 6, col: 14 });
  });

  it('maps offsets inside a literal block to their own line, keeping extra indentation', () => {
    const value = 'one\n  two {{ x }}\n';
    expect(locate(['steps', 0, 'block'], { offset: value.indexOf('{{') })).toEqual({ line: 9, col: 13 });
  });

  it('resolves a path that leads nowhere to the nearest existing node', () => {
    expect(locate(['steps', 0, 'missing'])).toEqual({ line: 3, col: 5 });
    expect(locate(['steps', 5])).toEqual({ line: 3, col: 3 });
  });
});

describe('offsets inside block scalars', () => {
  /** Where `token` is in `source`, counted as an editor does (1-based line and column). */
  function positionOf(source: string, token: string): { line: number; col: number } {
    const index = source.indexOf(token);
    expect(index, `${token} is in the source`).toBeGreaterThanOrEqual(0);
    expect(source.indexOf(token, index + 1), `${token} is in the source once`).toBe(-1);
    const before = source.slice(0, index);
    return { line: before.split('\n').length, col: index - before.lastIndexOf('\n') };
  }

  /** The value at `path`, as the YAML library reads it (the offsets templates are checked at). */
  function valueAt(source: string, path: (string | number)[]): string {
    return String(parseDocument(source).getIn(path));
  }

  /**
   * A block under `prompt:` (its mapping indented by `parent` spaces), with `header` (`|2-`, `>`,
   * …), whose lines are indented `indent` spaces more than the mapping, plus each line's `extra`.
   */
  function block(parent: number, header: string, indent: number, extras: (number | null)[]): string {
    const pad = (n: number) => ' '.repeat(n);
    const lines = extras.map((extra, i) =>
      extra === null ? '' : `${pad(parent + indent + extra)}line ${i} {{ t${i} }}`,
    );
    const key = parent === 0 ? 'prompt' : `${pad(parent - 2)}- prompt`;
    return `${parent === 0 ? '' : 'steps:\n'}${key}: ${header}\n${lines.join('\n')}\nafter: 1\n`;
  }

  // Every header form, with and without an indentation indicator; with the lines indented deeper
  // than the indicator says (the first line included), blank lines, and lines more indented than
  // the block (kept as text: by a folded block too, as a line of its own).
  const cases: { parent: number; header: string; indent: number; extras: (number | null)[] }[] = [];
  for (const parent of [0, 4]) {
    for (const chomp of ['', '-', '+']) {
      for (const style of ['|', '>']) {
        cases.push({ parent, header: `${style}${chomp}`, indent: 2, extras: [0, 0, null, 2, 0] });
        cases.push({ parent, header: `${style}${chomp} # a comment`, indent: 3, extras: [null, 0, 4, 0] });
        for (const [indicator, deeper] of [
          [1, 0],
          [2, 2],
          [4, 1],
        ] as const) {
          const extras = [deeper, deeper + 2, null, deeper, deeper];
          cases.push({ parent, header: `${style}${indicator}${chomp}`, indent: indicator, extras });
          if (chomp !== '') cases.push({ parent, header: `${style}${chomp}${indicator}`, indent: indicator, extras });
        }
      }
    }
  }

  for (const { parent, header, indent, extras } of cases) {
    const lines = extras.map((e) => (e === null ? 'blank' : `+${e}`)).join(' ');
    it(`maps each line of \`${header}\` (mapping at ${parent}, lines at +${indent}: ${lines}) to its place`, () => {
      const source = block(parent, header, indent, extras);
      expect(parseDocument(source).errors).toEqual([]);
      const path = parent === 0 ? ['prompt'] : ['steps', 0, 'prompt'];
      const value = valueAt(source, path);
      const locate = locator(source);
      extras.forEach((extra, i) => {
        if (extra === null) return;
        const token = `{{ t${i} }}`;
        expect(locate(path, { offset: value.indexOf(token) }), `${token} in\n${source}`).toEqual(
          positionOf(source, token),
        );
      });
    });
  }

  it('maps the reviewer’s case: `|2` with lines indented deeper (column 21, not 23)', () => {
    const source = 'name: q\nsteps:\n  - name: a\n    type: mock\n    prompt: |2\n        indented {{ fcous }}\n';
    const value = valueAt(source, ['steps', 0, 'prompt']);
    expect(value).toBe('  indented {{ fcous }}\n');
    expect(locator(source)(['steps', 0, 'prompt'], { offset: value.indexOf('fcous') })).toEqual({ line: 6, col: 21 });
  });

  it('maps a folded block, whose lines the value joins with spaces', () => {
    const source = 'prompt: >\n  first line\n  then {{ x }}\n\n  and {{ y }}\n';
    const value = valueAt(source, ['prompt']);
    expect(value).toBe('first line then {{ x }}\nand {{ y }}\n');
    const locate = locator(source);
    expect(locate(['prompt'], { offset: value.indexOf('{{ x') })).toEqual({ line: 3, col: 8 });
    expect(locate(['prompt'], { offset: value.indexOf('{{ y') })).toEqual({ line: 5, col: 7 });
  });

  it('maps lines ended by CRLF', () => {
    const source = 'prompt: |2\r\n    one\r\n     two {{ x }}\r\n';
    const value = valueAt(source, ['prompt']);
    expect(locator(source)(['prompt'], { offset: value.indexOf('{{') })).toEqual({ line: 3, col: 10 });
  });
});
