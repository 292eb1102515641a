// A pipeline file that is not UTF-8 is refused where its first bad byte is — a `café` saved as
// Latin-1 on line 40 is found at 40:N, not at 1:1 — counted as an editor counts: characters, a
// leading byte order mark not among them, a U+FFFD the file spells out itself not a bad byte.
import { describe, expect, it } from 'vitest';
import { decodeSource } from '../../src/config/yaml-source.js';

function positionOf(bytes: Buffer): { line: number; col: number } | undefined {
  const decoded = decodeSource(bytes);
  if (!('problems' in decoded)) return undefined;
  expect(decoded.problems[0]?.message).toBe('the file is not valid UTF-8 text');
  const [problem] = decoded.problems;
  return problem === undefined ? undefined : { line: problem.line, col: problem.col };
}

describe('a file that is not UTF-8', () => {
  it('is refused at its first bad byte', () => {
    const source = Buffer.concat([
      Buffer.from('name: p\nsteps:\n  - name: a\n    type: mock\n    prompt: caf'),
      Buffer.from([0xe9]), // é in Latin-1
      Buffer.from('\n'),
    ]);
    expect(positionOf(source)).toEqual({ line: 5, col: 16 });
  });

  it('counts characters, not bytes, before it on its line', () => {
    const source = Buffer.concat([Buffer.from('name: p\ndescription: ünï '), Buffer.from([0xff])]);
    expect(positionOf(source)).toEqual({ line: 2, col: 18 });
  });

  it('does not count a leading byte order mark, nor stop at a U+FFFD written in the file', () => {
    const bom = Buffer.concat([Buffer.from('\uFEFFname: x'), Buffer.from([0x80])]);
    expect(positionOf(bom)).toEqual({ line: 1, col: 8 });
    const replacement = Buffer.concat([Buffer.from('name: "\uFFFD'), Buffer.from([0xc3, 0x28])]);
    expect(positionOf(replacement)).toEqual({ line: 1, col: 9 });
  });
});
