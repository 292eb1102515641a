// Maps a key path of the parsed data back to a line and column of the YAML source, so that every
// diagnostic can say where to look. Paths that lead nowhere (a missing key) resolve to the deepest
// node that exists: the mapping the key is missing from.
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, Scalar } from 'yaml';
import type { DocPath } from './path.js';

export interface Position {
  line: number;
  col: number;
}

export interface LocateOptions {
  /** Point at the key of the last segment rather than at its value. */
  at?: 'key' | 'value';
  /** A character offset inside the string value (for templates). */
  offset?: number;
}

export type Locate = (path: DocPath, options?: LocateOptions) => Position;

export function createLocator(doc: Document, lineCounter: LineCounter, source: string): Locate {
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };

  return (path, options = {}) => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    let complete = true;
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(doc);
      let next: unknown;
      let nextKey: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyOf(p.key) === String(segment));
        if (pair) {
          next = pair.value ?? pair.key;
          nextKey = pair.key;
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      if (next === undefined || next === null) {
        complete = false;
        break;
      }
      node = next;
      keyNode = nextKey;
    }
    const target = options.at === 'key' && complete && keyNode ? keyNode : node;
    const start = rangeStart(target);
    if (start === undefined) return { line: 1, col: 1 };
    if (complete && options.offset !== undefined && isScalar(target) && options.at !== 'key') {
      return offsetInScalar(target, options.offset, source, position) ?? position(start);
    }
    return position(start);
  };
}

function keyOf(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

/**
 * The position of a character inside a scalar. Exact for single-line plain and quoted scalars and
 * for literal blocks (`|`), whose lines map one to one onto the value; other forms (folded `>`,
 * multi-line flow scalars, escapes) give the line of the value's start.
 */
function offsetInScalar(
  node: Scalar,
  offset: number,
  source: string,
  position: (offset: number) => Position,
): Position | undefined {
  const [start, end] = node.range ?? [];
  if (start === undefined || end === undefined) return undefined;
  const raw = source.slice(start, end);
  switch (node.type) {
    case Scalar.PLAIN:
      return raw.includes('\n') ? undefined : position(start + offset);
    case Scalar.QUOTE_SINGLE:
    case Scalar.QUOTE_DOUBLE:
      // Escapes would shift the offset; only trust it when the source equals the value.
      return raw.includes('\n') || raw.slice(1, -1) !== String(node.value) ? undefined : position(start + 1 + offset);
    case Scalar.BLOCK_LITERAL:
      return offsetInLiteralBlock(String(node.value), raw, start, offset, position);
    default:
      return undefined;
  }
}

function offsetInLiteralBlock(
  value: string,
  raw: string,
  start: number,
  offset: number,
  position: (offset: number) => Position,
): Position | undefined {
  const before = value.slice(0, offset);
  const lineIndex = before.split('\n').length - 1;
  const colInLine = offset - (before.lastIndexOf('\n') + 1);
  // raw = header line (`|`, `|-` …) then the content lines, each with the block's indentation.
  const rawLines = raw.split('\n');
  const contentLine = rawLines[1 + lineIndex];
  if (contentLine === undefined) return undefined;
  const firstContent = rawLines.slice(1).find((l) => l.trim() !== '') ?? '';
  const indent = firstContent.length - firstContent.trimStart().length;
  let lineStart = start;
  for (let i = 0; i < 1 + lineIndex; i++) lineStart += (rawLines[i]?.length ?? 0) + 1;
  return position(lineStart + indent + colInLine);
}
