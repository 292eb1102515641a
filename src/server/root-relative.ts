// What the service sends its clients names files under `--root` relative to it — `(inline).yaml:3:21`,
// not where the server keeps its pipelines (nothing a caller needs, and something it should not
// learn). Only where a file is named: the fields that name one (`file`, `cwd`) and the messages the
// engine and the server write (errors, diagnostics, hints, retry reasons). Never a step's output, a
// run's outputs or a streamed chunk: those are the model's text, served as it was produced. And in a
// message only a path that begins with the root — `/srv/x.yaml`, `"/srv/x.yaml"`, `(/srv)` — never
// the same characters inside a URL or a word (`https://example.com/srv/x`, `s3://b/srv/x`, `/srv2`).
import { parse, resolve, sep } from 'node:path';
import { realLocation } from '../config/confine.js';

/** Rewrites the paths under the root that a message names, relative to it. */
export type PathNamer = (text: string) => string;

/** What may precede a path in a message: its start, a space, a quote, an opening bracket, `=`, `,`, `;`. */
const BEFORE = String.raw`(^|[\s"'\x60([{<=,;])`;
/** What may follow the root named alone (then `.`): the end, a space, a quote, a closing bracket, a full stop. */
const ALONE = String.raw`(?=$|[\s"'\x60)\]}>,;:]|\.(?:$|\s))`;

export function relativeToRoot(root: string): PathNamer {
  const absolute = resolve(root);
  // As given and as it really is (symlinks followed: `/tmp` is `/private/tmp` on macOS), since the
  // loader names files by either.
  const roots = [...new Set([absolute, realLocation(absolute)])].filter((r) => parse(r).root !== r);
  if (roots.length === 0) return (text) => text; // the root is `/`: every path would be "relative"
  const separator = sep === '\\' ? String.raw`[\\/]` : '/';
  const patterns = roots.map(
    (r) =>
      // `file://` too: a file URL of a file under the root is a path, not a web address.
      new RegExp(`${BEFORE}(?:file://)?${escapeRegExp(r)}(?:${separator}?${ALONE}|(${separator}))`, 'g'),
  );
  return (text) => {
    let out = text;
    for (const pattern of patterns) {
      // `/srv/x.yaml` → `x.yaml`; `/srv` alone → `.`.
      out = out.replace(pattern, (_match, before: string, slash: string | undefined) =>
        slash === undefined ? `${before}.` : before,
      );
    }
    return out;
  };
}

/** Keys whose strings name files, or are messages the engine or the server wrote. */
const NAMING: ReadonlySet<string> = new Set([
  'error',
  'errors',
  'reason',
  'hint',
  'message',
  'diagnostics',
  'file',
  'path',
  'cwd',
]);
/** Keys whose values are the model's or the caller's text: served as they are, whatever they hold. */
const VERBATIM: ReadonlySet<string> = new Set(['output', 'outputs', 'text', 'inputs']);

/**
 * A copy of `value` (a run result, an event, an error body) whose strings that name files or are
 * messages — those under a NAMING key, outside any VERBATIM one — have their paths under the root
 * made relative to it; every other string as it is.
 */
export function relativeDeep<T>(value: T, name: PathNamer): T {
  return walk(value, name, false) as T;
}

function walk(value: unknown, name: PathNamer, naming: boolean): unknown {
  if (typeof value === 'string') return naming ? name(value) : value;
  if (Array.isArray(value)) return value.map((v) => walk(v, name, naming));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = VERBATIM.has(k) ? v : walk(v, name, naming || NAMING.has(k));
    }
    return out;
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`);
}
