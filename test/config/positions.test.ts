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
