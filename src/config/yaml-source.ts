// Turns pipeline source text into plain data plus a locator, refusing what is not a pipeline file
// (empty, binary, oversized, several documents, alias bombs, an alias inside its own anchor) with a
// positioned message — quickly, before any expensive work. The one way pipeline YAML is read: the
// loader and the checks of included files (pipeline-includes.ts) both read it here.
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import { createLocator, type Locate, type Position } from './positions.js';
import { overIndentedKeys } from './yaml-indent.js';

/** Pipelines are small; anything bigger is a mistake (or an attack) and is refused before parsing. */
export const MAX_PIPELINE_BYTES = 1_000_000;
/** Aliases expanded when converting to data; bounds "billion laughs" documents. */
export const MAX_ALIAS_COUNT = 100;

/** A problem with a position but not yet a file name. */
export interface SourceProblem extends Position {
  path: string;
  message: string;
  hint?: string;
}

export type ParsedSource =
  | { ok: true; data: Record<string, unknown>; doc: Document; locate: Locate }
  | { ok: false; problems: SourceProblem[] };

const at = (line: number, col: number, message: string, hint?: string): SourceProblem => ({
  line,
  col,
  path: '',
  message,
  ...(hint === undefined ? {} : { hint }),
});

/** Checks the raw bytes of a file: size and encoding. Returns the text, or the problems. */
export function decodeSource(bytes: Uint8Array): { text: string } | { problems: SourceProblem[] } {
  if (bytes.byteLength > MAX_PIPELINE_BYTES) return { problems: [tooLarge(bytes.byteLength)] };
  const nul = bytes.indexOf(0);
  if (nul !== -1) return { problems: [binary(positionOfByte(bytes, nul))] };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    // At the first byte that is not UTF-8 (a `café` saved as Latin-1 on line 40), not at 1:1.
    const { line, col } = firstInvalidUtf8(bytes);
    return {
      problems: [
        at(
          line,
          col,
          'the file is not valid UTF-8 text',
          'a pipeline is a YAML text file saved as UTF-8; is this the right file?',
        ),
      ],
    };
  }
}

/**
 * Line and column (in characters, as an editor counts them) of the first byte of `bytes` that is
 * not UTF-8. The lenient decoder replaces each bad sequence with U+FFFD; the first U+FFFD that the
 * file does not spell out itself (as the bytes EF BF BD) is it.
 */
export function firstInvalidUtf8(bytes: Uint8Array): Position {
  // ignoreBOM keeps a leading byte order mark in the text, so that bytes and characters stay in step.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  let byte = 0;
  let line = 1;
  let col = 1;
  for (const char of text) {
    const spelledOut = bytes[byte] === 0xef && bytes[byte + 1] === 0xbf && bytes[byte + 2] === 0xbd;
    if (char === '\uFFFD' && !spelledOut) break;
    if (char === '\n') {
      line++;
      col = 1;
    } else if (!(byte === 0 && char === '\uFEFF')) col += char.length; // an editor shows no BOM
    byte += Buffer.byteLength(char);
  }
  return { line, col };
}

export function tooLarge(bytes: number): SourceProblem {
  return at(
    1,
    1,
    `the file is too large (${bytes} bytes; the limit is ${MAX_PIPELINE_BYTES} bytes)`,
    'a pipeline describes steps; put large data in an input file (--inputs data.json) instead',
  );
}

function binary(position: Position): SourceProblem {
  return at(
    position.line,
    position.col,
    'the file contains binary data (a NUL byte), not YAML text',
    'is this the right file? A pipeline is a YAML text file',
  );
}

function positionOfByte(bytes: Uint8Array, index: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: index - lineStart + 1 };
}

export function parseSource(source: string): ParsedSource {
  if (Buffer.byteLength(source) > MAX_PIPELINE_BYTES)
    return { ok: false, problems: [tooLarge(Buffer.byteLength(source))] };
  const nul = source.indexOf('\0');
  if (nul !== -1) {
    const before = source.slice(0, nul);
    return {
      ok: false,
      problems: [binary({ line: before.split('\n').length, col: nul - before.lastIndexOf('\n') })],
    };
  }

  const lineCounter = new LineCounter();
  // `merge` lets users share settings with `<<: *anchor`; `uniqueKeys` makes a repeated key an error.
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, merge: true });
  const locate = createLocator(doc, lineCounter, source);

  if (doc.errors.length > 0) {
    // A parser out of stack reports it once per level it unwinds through — how many depends on the
    // stack left when it started (a warm process's optimized frames are smaller): one is the news.
    const exhausted = doc.errors.find(isStackExhaustion);
    if (exhausted) return { ok: false, problems: [yamlProblem(exhausted, source)] };
    const { problems, rest } = overIndentedKeys(doc.errors, source, lineCounter);
    const all = [...problems, ...rest.map((e) => yamlProblem(e, source))];
    return { ok: false, problems: all.sort((a, b) => a.line - b.line || a.col - b.col) };
  }

  if (doc.contents === null) {
    return {
      ok: false,
      problems: [
        at(1, 1, 'the file is empty', 'a pipeline needs at least `name:` and `steps:`; see docs/pipeline-format.md'),
      ],
    };
  }
  if (!isMap(doc.contents)) {
    const what = isSeq(doc.contents) ? 'a list' : 'a single value';
    const { line, col } = locate([]);
    return {
      ok: false,
      problems: [
        at(
          line,
          col,
          `the top level must be a mapping of keys (name:, steps:, …), got ${what}`,
          'start the file with `name: my-pipeline`',
        ),
      ],
    };
  }

  const keyProblems = badKeys(doc, lineCounter);
  if (keyProblems.length > 0) return { ok: false, problems: keyProblems };
  const cycle = cyclicAlias(doc, lineCounter);
  if (cycle !== undefined) return { ok: false, problems: [cycle] };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return { ok: false, problems: [aliasProblem(doc, lineCounter, error)] };
  }
  return { ok: true, data: data as Record<string, unknown>, doc, locate };
}

/**
 * Keys that would not survive the conversion to plain data: a list or mapping used as a key (it
 * would become its text, with a warning from YAML printed on stderr) and `__proto__` (JavaScript
 * objects reserve it: the key and its value would silently disappear).
 */
function badKeys(doc: Document, lineCounter: LineCounter): SourceProblem[] {
  const problems: SourceProblem[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key as { range?: [number, number, number] } | null;
      const { line, col } = key?.range ? lineCounter.linePos(key.range[0]) : { line: 1, col: 1 };
      if (isMap(pair.key) || isSeq(pair.key)) {
        problems.push(
          at(
            line,
            col,
            `a key must be plain text, got ${isSeq(pair.key) ? 'a list' : 'a mapping'}`,
            'write the key as a name (quote it if it holds special characters), not as a `? [a, b]` or `{ … }` key',
          ),
        );
      } else if (isScalar(pair.key) && pair.key.value === '__proto__') {
        problems.push(at(line, col, 'the key "__proto__" is not allowed', 'rename it: JavaScript reserves this name'));
      }
    },
  });
  return problems;
}

/**
 * An alias inside the node its own anchor names (`variables: &v { self: *v }`): the data would
 * contain itself, and every check walking it would never end. Refused at the alias. No other alias
 * can loop: any other names a node that ends before the alias, so expanding aliases only ever
 * moves back through the file. (The anchor an alias names is the last one of that name before it,
 * in the order visit() walks the document — as the YAML library resolves it.)
 */
function cyclicAlias(doc: Document, lineCounter: LineCounter): SourceProblem | undefined {
  const anchors = new Map<string, Node>();
  let problem: SourceProblem | undefined;
  visit(doc, (_key, node, path) => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined || !path.includes(target)) return undefined;
      const { line, col } = node.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
      problem = at(
        line,
        col,
        `the alias *${node.source} is inside the value it repeats (&${node.source}): that value would contain itself without end`,
        `an alias can only repeat a value that ends before it: move *${node.source} out of the &${node.source} value, or write the value out in full`,
      );
      return visit.BREAK;
    }
    if ((isCollection(node) || isScalar(node)) && node.anchor) anchors.set(node.anchor, node);
    return undefined;
  });
  return problem;
}

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'YAML indents with spaces only: replace the tab with spaces',
  DUPLICATE_KEY: 'a key may appear only once in a mapping: remove one of them or rename it',
  MULTIPLE_DOCS: 'a pipeline file holds one YAML document: remove the `---` line or split the file',
  BLOCK_AS_IMPLICIT_KEY: 'a value containing ": " must be quoted, or put the nested mapping on its own indented lines',
  MISSING_CHAR: 'a bracket or quote was opened and not closed',
  BAD_INDENT: 'check the indentation here, and that brackets and quotes are closed',
};

function isStackExhaustion(error: YAMLError): boolean {
  return error.code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(error.message);
}

function yamlProblem(error: YAMLError, source: string): SourceProblem {
  const [start] = error.linePos ?? [{ line: 1, col: 1 }];
  // prettyErrors appends "at line L, column C:" and a source excerpt; the position is printed in front instead.
  let message = error.message.split(/ at line \d+, column \d+/)[0]?.trim() ?? error.message;
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*)/.exec(source.slice(error.pos[0]))?.[1]?.trim() ?? '';
    message = `duplicate key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}`;
  }
  if (error.code === 'MULTIPLE_DOCS') message = 'the file holds more than one YAML document (a `---` line)';
  if (isStackExhaustion(error)) {
    // The parser gave up on lists and mappings nested hundreds of levels deep.
    return at(
      start.line,
      start.col,
      'the document nests lists or mappings too deeply to be read',
      'a pipeline never nests this deep: flatten the structure',
    );
  }
  message = message.charAt(0).toLowerCase() + message.slice(1);
  // A quote never closed runs to the end of the file, where the parser notices: the place to fix is
  // where it was opened.
  const quote = error.code === 'MISSING_CHAR' ? /closing (["'])quote/.exec(message)?.[1] : undefined;
  const opened = quote === undefined ? undefined : unclosedQuote(source, error.pos[0], quote);
  if (opened !== undefined) {
    return at(
      opened.line,
      opened.col,
      `YAML syntax error: the ${opened.quote === '"' ? 'double' : 'single'} quote opened here is never closed`,
      YAML_HINTS[error.code] ?? 'close the quote',
    );
  }
  return at(
    start.line,
    start.col,
    `YAML syntax error: ${message}`,
    YAML_HINTS[error.code] ?? 'check the indentation here, and that brackets and quotes are closed',
  );
}

/**
 * Where the quote that runs to `end` was opened: the last quote character before `end` that no later
 * one closes — escaped ones (`\"` in double quotes, `''` in single quotes) skipped.
 */
function unclosedQuote(
  source: string,
  end: number,
  quote: string,
): { line: number; col: number; quote: string } | undefined {
  for (let i = Math.min(end, source.length) - 1; i >= 0; i--) {
    const char = source[i];
    if (char !== quote) continue;
    if (char === '"' && source[i - 1] === '\\') continue;
    if (char === "'" && (source[i - 1] === "'" || source[i + 1] === "'")) {
      i--; // a doubled single quote is an escaped one
      continue;
    }
    const before = source.slice(0, i);
    const line = before.split('\n').length;
    return { line, col: i - before.lastIndexOf('\n'), quote: char };
  }
  return undefined;
}

function aliasProblem(doc: Document, lineCounter: LineCounter, error: unknown): SourceProblem {
  let first: Position | undefined;
  let unresolved: { name: string; position: Position } | undefined;
  visit(doc, {
    Alias(_, node) {
      const position = node.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
      first ??= position;
      if (node.resolve(doc) === undefined) {
        unresolved = { name: node.source, position };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (unresolved !== undefined) {
    const { line, col } = unresolved.position;
    return at(line, col, `unknown alias *${unresolved.name}`, `define the anchor &${unresolved.name} before using it`);
  }
  const { line, col } = first ?? { line: 1, col: 1 };
  const detail = error instanceof Error && /alias/i.test(error.message) ? '' : ` (${String(error)})`;
  return at(
    line,
    col,
    `the document expands too many aliases (more than ${MAX_ALIAS_COUNT}): refused as a possible "billion laughs" attack${detail}`,
    'use fewer anchors/aliases (*name); a pipeline never needs this many',
  );
}
