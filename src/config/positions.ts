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
 * for block scalars (`|` and `>`, with any chomping and indentation indicator), whose lines keep
 * their text in the value; other forms (multi-line flow scalars, escapes) give the value's start.
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
    case Scalar.BLOCK_FOLDED: {
      const at = offsetInBlock(String(node.value), raw, offset);
      return at === undefined ? undefined : position(start + at);
    }
    default:
      return undefined;
  }
}

/**
 * Where the character at `offset` of a block scalar's value is in its source `raw` (the header
 * line — `|2-`, `>`, … and maybe a comment — then the content lines). Each content line is the
 * block's indentation, then text that is in the value as it is: a literal block joins the texts
 * with line breaks, a folded one with spaces or line breaks. The indentation is the first text
 * line's leading spaces less those its text keeps in the value (more than the indicator or the
 * first line says are part of the text); each line's text is then found in the value, in order,
 * after the separators the block put there. Undefined when the value does not read that way.
 */
function offsetInBlock(value: string, raw: string, offset: number): number | undefined {
  const lines = raw.split('\n');
  const firstText = lines.findIndex((line, i) => i > 0 && line.trim() !== '');
  const valueText = value.search(/[^ \n]/);
  if (firstText === -1 || valueText === -1) return undefined;
  const leading = (text: string) => text.length - text.trimStart().length;
  const indent = leading(lines[firstText] ?? '') - (valueText - (value.lastIndexOf('\n', valueText) + 1));
  if (indent < 0) return undefined;
  let lineStart = (lines[0]?.length ?? 0) + 1;
  let cursor = 0;
  for (const line of lines.slice(1)) {
    const content = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (content.trim() !== '') {
      const text = content.slice(indent);
      const found = value.indexOf(text, cursor);
      if (found === -1 || !/^[ \n]*$/.test(value.slice(cursor, found))) return undefined;
      if (offset >= found && offset < found + text.length) return lineStart + indent + (offset - found);
      cursor = found + text.length;
    }
    lineStart += line.length + 1;
  }
  return undefined;
}
