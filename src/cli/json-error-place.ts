// Where a text stops being JSON, for the message of an `--inputs` file JSON.parse refused. V8's own
// message is no use there: `Unexpected token 's', "{"key": sk-ant-api0"... is not valid JSON` gives
// no position and quotes the file, secrets included. This scanner follows RFC 8259 just far enough
// to find the first character that cannot be there; it runs only after JSON.parse has failed.

export interface JsonErrorPlace {
  line: number;
  col: number;
  /** `unexpected "s"`, `unexpected end of the file`: one character at most, never a quote of the file. */
  found: string;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** The first place in `text` that is not JSON (undefined if it all is). */
export function jsonErrorPlace(text: string): JsonErrorPlace | undefined {
  const offset = firstBadOffset(text);
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  const char = text.codePointAt(offset);
  const found = char === undefined ? 'unexpected end of the file' : `unexpected ${describe(char)}`;
  return { line, col, found };
}

function describe(codePoint: number): string {
  const char = String.fromCodePoint(codePoint);
  return codePoint < 0x20 || codePoint === 0x7f
    ? `control character U+${codePoint.toString(16).padStart(4, '0')}`
    : JSON.stringify(char);
}

/** Iterative (a file nesting thousands of brackets must not overflow the stack). */
function firstBadOffset(text: string): number | undefined {
  let i = 0;
  /** The containers open around `i`: `{` or `[`. */
  const open: string[] = [];
  const skipSpace = () => {
    while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
  };
  const match = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  for (;;) {
    // A value is expected here.
    skipSpace();
    const c = text[i];
    if (c === '{' || c === '[') {
      open.push(c);
      i++;
      skipSpace();
      if (text[i] === (c === '{' ? '}' : ']')) {
        open.pop();
        i++;
      } else {
        if (c === '{' && !key()) return i;
        continue;
      }
    } else if (c === '"') {
      const fault = string();
      if (fault !== undefined) return fault;
    } else if (!(match(NUMBER) || literal())) {
      return i;
    }
    // After a value: a comma and the next one, or the end of its container.
    for (;;) {
      skipSpace();
      const container = open[open.length - 1];
      if (container === undefined) return i < text.length ? i : undefined;
      if (text[i] === ',') {
        i++;
        if (container === '{' && !key()) return i;
        break;
      }
      if (text[i] !== (container === '{' ? '}' : ']')) return i;
      open.pop();
      i++;
    }
  }

  /** `"name":` before a member's value; false (with `i` at the fault) when it is not there. */
  function key(): boolean {
    skipSpace();
    if (text[i] !== '"') return false;
    const fault = string();
    if (fault !== undefined) {
      i = fault;
      return false;
    }
    skipSpace();
    if (text[i] !== ':') return false;
    i++;
    return true;
  }

  function literal(): boolean {
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return true;
      }
    }
    return false;
  }

  /**
   * The string at `i` (an opening quote): moves `i` past its closing quote, or returns where it goes
   * wrong — a control character, a bad escape, or the end of the text.
   */
  function string(): number | undefined {
    for (let j = i + 1; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        i = j + 1;
        return undefined;
      }
      if (c < 0x20) return j;
      if (c === 0x5c) {
        const escaped = text[j + 1];
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return j;
          j += 5;
        } else if (escaped === undefined || !'"\\/bfnrt'.includes(escaped)) return j;
        else j++;
      }
    }
    return text.length;
  }
}
