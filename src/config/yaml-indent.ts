// A key indented deeper than the keys beside it (`prompt:` under `type: mock`, two spaces too far)
// continues the previous key's plain value in YAML, and the parser then reports two errors, both
// at that value on the line ABOVE ("nested mappings are not allowed in compact mappings",
// "implicit keys need to be on a single line"): the line to fix was never named. Read here as one
// problem at the over-indented key, with the indentation it should have.
import type { LineCounter, YAMLError } from 'yaml';
import type { SourceProblem } from './yaml-source.js';

export interface IndentReading {
  problems: SourceProblem[];
  /** The parser's errors not explained by an over-indented key. */
  rest: YAMLError[];
}

export function overIndentedKeys(errors: readonly YAMLError[], source: string, lines: LineCounter): IndentReading {
  const problems: SourceProblem[] = [];
  const explained = new Set<YAMLError>();
  const reported = new Set<number>(); // lines already named as over-indented
  for (const error of errors) {
    if (error.code !== 'MULTILINE_IMPLICIT_KEY') continue;
    const [start, colon] = error.pos;
    const companion = errors.find((e) => e.code === 'BLOCK_AS_IMPLICIT_KEY' && e.pos[0] === start);
    const startLine = lines.linePos(start).line;
    // The value the key continues sits on a line already reported: the same mistake, read on
    // (two keys over-indented one after the other). Fixing the first shows the second, if any.
    if (reported.has(startLine)) {
      explained.add(error);
      if (companion) explained.add(companion);
      continue;
    }
    const problem = overIndentedKey(source, start, colon, lines);
    if (problem === undefined) continue;
    problems.push(problem);
    reported.add(problem.line);
    explained.add(error);
    if (companion) explained.add(companion);
  }
  return { problems, rest: errors.filter((e) => !explained.has(e)) };
}

/** The key whose `:` is at `colon`, deeper than the key whose plain value starts at `start`. */
function overIndentedKey(source: string, start: number, colon: number, lines: LineCounter): SourceProblem | undefined {
  const lineOf = (offset: number) => source.slice(source.lastIndexOf('\n', offset - 1) + 1, offset);
  const keyLine = lineOf(colon);
  const keyCol = keyLine.length - keyLine.trimStart().length + 1;
  const key = keyLine.trim();
  // The key the value belongs to: before its `: ` on the value's line (past a `- ` list marker).
  const before = lineOf(start);
  const owner = /^(\s*(?:-\s+)*)(.*?):\s*$/.exec(before);
  if (owner === null || key === '' || key.startsWith('-') || key.includes(':')) return undefined;
  const ownerIndent = (owner[1] ?? '').length;
  const ownerKey = owner[2] ?? '';
  if (keyCol - 1 <= ownerIndent || ownerKey === '') return undefined;
  const { line } = lines.linePos(colon);
  const ownerLine = lines.linePos(start).line;
  const align =
    ownerIndent === 0
      ? `start \`${key}:\` at the beginning of the line`
      : `indent \`${key}:\` by ${ownerIndent} spaces`;
  return {
    line,
    col: keyCol,
    path: '',
    message:
      `YAML syntax error: \`${key}:\` is indented deeper than \`${ownerKey}:\` on line ${ownerLine} ` +
      `(${keyCol - 1} spaces, not ${ownerIndent}), so it reads as more of \`${ownerKey}:\`'s value`,
    hint:
      `${align}, as \`${ownerKey}:\` is, to make it a key beside it; ` +
      `if the line is more text of \`${ownerKey}:\`'s value, quote that value or write it as a \`|\` block`,
  };
}
