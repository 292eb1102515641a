// The redactor of an engine (or a CLI process), for what a model says: its answers are text the
// process did not write — an agent that read a `.env`, a vendor echoing a key — and they are
// journaled, cached, printed and handed to later steps. A whole answer is redacted with `redact`;
// a streamed one piece by piece with `stream`, which holds back the end of what has arrived until
// no secret can straddle a cut: a key split over two chunks would pass two separate redactions.
import { createRedactor, MAY_HOLD_SHAPE, type Redactor, SHAPE_STARTS, secretValues } from './redact.js';

export interface Redaction {
  /** A whole text, redacted. */
  readonly redact: Redactor;
  /** A text that arrives in pieces: `emit` is given it redacted, in pieces cut where no secret spans. */
  stream(emit: (text: string) => void): RedactedStream;
}

export interface RedactedStream {
  push(text: string): void;
  /** The stream is complete: what was held back is emitted. */
  end(): void;
}

/**
 * Where a streamed text may be cut: after an ASCII space, tab, line break or `"`. No key shape nor
 * URL rule of redact.ts matches across one (a key's or a URL userinfo's characters exclude them; a
 * cut right after one leaves `\b` before the next word as it was), save `Bearer <token>`, checked
 * apart. Secrets of the environment that hold one (a custom header `Bearer …`, a pass phrase, a
 * JSON-escaped spelling with `\"`) are checked at each cut.
 */
function cutsAfter(code: number): boolean {
  return code === 0x22 || isSpace(code);
}

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

export function createRedaction(env: Readonly<Record<string, string | undefined>> = process.env): Redaction {
  const redact = createRedactor(env);
  const secrets = secretValues(env);
  // Most environments have none: a cut is then checked for `Bearer` only.
  const spanning = secrets.filter((secret) => [...secret].some((c) => cutsAfter(c.charCodeAt(0))));
  const longest = spanning.reduce((max, secret) => Math.max(max, secret.length), 0);
  return {
    redact,
    stream: (emit) => {
      let held = '';
      // The last character emitted (redacted, as the whole text's key shapes meet it after its
      // secrets are replaced), put before the next piece while it is redacted: a piece that starts
      // mid-word must not meet a key shape's `\b` the whole text does not have there (`…1234` then
      // `sk-…`). No match can start at it: a piece never ends in the start of one.
      let before = '';
      const redactAfter = (piece: string): string => {
        const out = redact(before + piece).slice(before.length);
        if (out !== '') before = out.slice(-1);
        return out;
      };
      return {
        push(text) {
          // Every cut in what was held was refused already, for good — but one refused because a
          // secret might begin before it: that many characters back are looked at again.
          const from = Math.max(0, held.length - longest);
          held += text;
          // Usually all of it goes at once: a chunk of plain words ends in nothing a secret could
          // continue from. Only a tail that may be the start of one waits for a safe cut.
          const cut = mayContinue(held, secrets) ? safeCut(held, from, spanning) : held.length;
          if (cut === 0) return;
          const out = redactAfter(held.slice(0, cut));
          held = held.slice(cut);
          if (out !== '') emit(out);
        },
        end() {
          if (held === '') return;
          const out = redactAfter(held);
          held = '';
          if (out !== '') emit(out);
        },
      };
    },
  };
}

/**
 * The last position of `text` after its character `from` where it can be cut and both sides be
 * redacted apart; 0 for none. One pass over what arrived: answers stream in many small pieces.
 */
function safeCut(text: string, from: number, spanning: readonly string[]): number {
  for (let at = text.length - 1; at >= from; at--) {
    if (!cutsAfter(text.charCodeAt(at))) continue;
    const cut = at + 1;
    if (afterBearer(text, cut)) continue;
    if (spanning.length > 0 && spanning.some((secret) => straddles(text, cut, secret))) continue;
    return cut;
  }
  return 0;
}

/**
 * Whether a secret or a key shape may run past the end of `text`: its last word (after the last cut
 * point) holds a shape's start or ends in part of one (`sk`, `AIz`, `/`, `passw`), it is the token
 * after `Bearer` (or `Bearer` and spaces end the text), or its end is the beginning of a secret of
 * the environment.
 */
function mayContinue(text: string, secrets: readonly string[]): boolean {
  let start = text.length;
  while (start > 0 && !cutsAfter(text.charCodeAt(start - 1))) start--;
  const word = text.slice(start);
  // `Bearer` and spaces at the end, or before this last word (the token under way).
  if (afterBearer(text, text.length) || afterBearer(text, start)) return true;
  if (MAY_HOLD_SHAPE.test(word) || endsInShapeStart(word)) return true;
  return secrets.some((secret) => straddles(text, text.length, secret));
}

/** Every beginning of a shape's start short of the whole (`s`, `sk`, `&pass`…): what may become one. */
const SHAPE_BEGINNINGS: ReadonlySet<string> = new Set(
  SHAPE_STARTS.flatMap((shape) => Array.from({ length: shape.length - 1 }, (_, n) => shape.slice(0, n + 1))),
);
const LONGEST_BEGINNING = Math.max(...[...SHAPE_BEGINNINGS].map((b) => b.length));

function endsInShapeStart(word: string): boolean {
  const end = word.slice(-LONGEST_BEGINNING).toLowerCase();
  for (let n = 1; n <= end.length; n++) if (SHAPE_BEGINNINGS.has(end.slice(-n))) return true;
  return false;
}

/** Whether `text` before `cut` is `Bearer` and spaces: the token after them is part of its match. */
function afterBearer(text: string, cut: number): boolean {
  let end = cut;
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
  return end < cut && text.endsWith('Bearer', end);
}

/**
 * Whether `secret` begins before `cut` and reaches past it — or may, once more text arrives (it runs
 * to the end of `text` matching so far).
 */
function straddles(text: string, cut: number, secret: string): boolean {
  for (let start = Math.max(0, cut - secret.length + 1); start < cut; start++) {
    const n = Math.min(secret.length, text.length - start);
    if (text.startsWith(secret.slice(0, n), start)) return true;
  }
  return false;
}
