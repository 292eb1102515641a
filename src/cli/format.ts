// Human formats shared by every command that prints runs: one place decides how a cost looks.
import type { Usage } from '../providers/provider.js';

/**
 * A duration in the largest fitting unit. Rounded to the precision shown *before* it is split into
 * units, so that a value just under a boundary carries over (`1m59.6s` → `2m0s`, never `1m60s`).
 */
export function formatDuration(ms: number): string {
  const wholeMs = Math.round(ms);
  if (wholeMs < 1000) return `${wholeMs}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/**
 * A cost: `$1.23`, `$0.0123`; `<$0.0001` when paid but below what four decimals show; `$0` only
 * when nothing was paid (mock calls, cache hits); `$?` when unknown (an unpriced model) — never a
 * misleading `$0`.
 */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '$?';
  if (usd === 0) return '$0';
  if (usd > 0 && usd < 0.0001) return '<$0.0001';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/**
 * A cost of which `unpricedCalls` calls had no known price (`usd` their known part): `$?` when none
 * of it is known — nothing priced, or only calls that cost nothing — and `$0.02+?` when part is;
 * never a misleading `$0`.
 */
export function formatPartialCost(usd: number | null | undefined, unpricedCalls: number): string {
  if (!(unpricedCalls > 0)) return formatCost(usd);
  if (usd === null || usd === undefined || usd === 0) return '$?';
  return `${formatCost(usd)}+?`;
}

/** `1 step`, `3 steps`; `plural` for the irregular ones (`1 retry`, `2 retries`). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

export function formatTokens(usage: Usage | { input_tokens: number; output_tokens: number }): string {
  const input = 'inputTokens' in usage ? usage.inputTokens : usage.input_tokens;
  const output = 'outputTokens' in usage ? usage.outputTokens : usage.output_tokens;
  return `${input}→${output} tok`;
}

/** An ANSI escape sequence at the start of `text` (CSI `ESC[…X`, OSC `ESC]…BEL/ST`, or `ESC X`). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences begin with ESC
const ESCAPE = /^\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/;

/** How many columns a terminal gives one code point: 0 (combining marks), 1, or 2 (wide). */
function columnsOf(codePoint: number): number {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) || // combining diacritical marks
    (codePoint >= 0x200b && codePoint <= 0x200f) || // zero-width spaces and marks
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f) // variation selectors
  )
    return 0;
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) || // Hangul Jamo
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) || // CJK … Yi
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) || // Hangul syllables
    (codePoint >= 0xf900 && codePoint <= 0xfaff) || // CJK compatibility ideographs
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) || // CJK compatibility forms
    (codePoint >= 0xff00 && codePoint <= 0xff60) || // fullwidth forms
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) || // emoji
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd) // CJK extensions
  )
    return 2;
  return 1;
}

/** The columns `text` takes on a terminal: its escape sequences take none. */
export function visibleWidth(text: string): number {
  return measure(text, Number.POSITIVE_INFINITY).width;
}

/**
 * `text` cut to at most `columns` visible columns, ending in `…` when cut. Escape sequences take no
 * room and are never split: those after the cut are kept (a colour opened before it is still
 * closed), only the visible characters are dropped.
 */
export function fitToColumns(text: string, columns: number): string {
  if (columns <= 0) return '';
  const whole = measure(text, columns);
  if (!whole.cut) return text;
  return measure(text, columns - 1, '…').text;
}

/** `text` up to `columns` visible columns (then `ellipsis`), its width, and whether it was cut. */
function measure(text: string, columns: number, ellipsis = ''): { text: string; width: number; cut: boolean } {
  let out = '';
  let width = 0;
  let cut = false;
  for (let i = 0; i < text.length; ) {
    const sequence = text[i] === '\x1b' ? ESCAPE.exec(text.slice(i)) : null;
    if (sequence) {
      out += sequence[0];
      i += sequence[0].length;
      continue;
    }
    const codePoint = text.codePointAt(i) as number;
    const char = String.fromCodePoint(codePoint);
    i += char.length;
    const w = columnsOf(codePoint);
    if (cut) continue;
    if (width + w > columns) {
      cut = true;
      out += ellipsis;
      continue;
    }
    out += char;
    width += w;
  }
  return { text: out, width, cut };
}

/** Assumed when a terminal does not say how wide it is (nor COLUMNS). */
export const DEFAULT_COLUMNS = 80;

/** The width of the terminal `stream` writes to: its own, else $COLUMNS, else DEFAULT_COLUMNS. */
export function terminalColumns(stream: { columns?: number }, env: NodeJS.ProcessEnv): number {
  if (typeof stream.columns === 'number' && stream.columns > 0) return stream.columns;
  const fromEnv = Number(env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_COLUMNS;
}
