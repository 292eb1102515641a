// A shortcut through Liquid for the templates the engine renders on every step and batch item:
// text and `{{ a.b.c | filter: 'literal' }}` outputs. Liquid evaluates each output through nested
// generators (~4.5 µs for `{{ steps.x.output | truncate: 40 }}`, measured); reading the path and
// calling the same filter functions directly takes a fraction of that.
//
// It never decides anything Liquid would decide differently: whatever is not a plain, present,
// own property of a plain object or array (a missing name — Liquid's strict-variables error —, a
// Drop, `toLiquid`, a function, `size`/`first`/`last`, a negative index) gives up, and the caller
// renders the template with Liquid as before. Filters are Liquid's own, called as Liquid calls them.
import { Context, Drop, Output, type Template, TokenKind, toValueSync } from 'liquidjs';
import { liquid } from './liquid.js';

type Key = string | number;

interface FastFilter {
  handler: (this: unknown, value: unknown, ...args: unknown[]) => unknown;
  token: unknown;
  args: unknown[];
}

interface FastOutput {
  /** A literal value (`{{ 'go' }}`), or a path read from the scope. */
  literal?: { value: unknown };
  path: Key[];
  filters: FastFilter[];
}

/** The template's parts: text as is, outputs to evaluate. */
export type FastTemplate = Array<string | FastOutput>;

/** Gives up on this render: Liquid renders it. */
const GIVE_UP = Symbol('give up');

const SPECIAL_KEYS = new Set<Key>(['size', 'first', 'last']);

/** The shortcut for `templates`, or undefined when one of its parts needs Liquid itself. */
export function compileFast(templates: Template[]): FastTemplate | undefined {
  const parts: FastTemplate = [];
  for (const template of templates) {
    if (template.token.kind === TokenKind.HTML) {
      parts.push((template as unknown as { str: string }).str);
      continue;
    }
    if (!(template instanceof Output)) return undefined;
    const output = compileOutput(template);
    if (output === undefined) return undefined;
    parts.push(output);
  }
  return parts;
}

// The parts of liquidjs's Value and Filter read here are not in its typings; they are how it runs.
interface ValueInternals {
  initial: { postfix: Array<Record<string, unknown>> };
  filters: Array<{ name: string; handler: FastFilter['handler']; token: unknown; args: unknown[] }>;
}

function compileOutput(output: Output): FastOutput | undefined {
  const value = output.value as unknown as ValueInternals;
  const postfix = value.initial.postfix;
  if (postfix.length !== 1) return undefined;
  const token = postfix[0] as Record<string, unknown>;
  let literal: FastOutput['literal'];
  const path: Key[] = [];
  if ('content' in token) {
    // A Drop literal (`empty`, `blank`) compares and prints its own way.
    if (token.content !== null && typeof token.content === 'object') return undefined;
    literal = { value: token.content };
  } else if (token.kind === TokenKind.PropertyAccess && token.variable === undefined) {
    for (const prop of token.props as Array<Record<string, unknown>>) {
      if (!('content' in prop)) return undefined; // `a[b]`: a key read from the scope
      const key = prop.content;
      if (typeof key !== 'string' && typeof key !== 'number') return undefined;
      path.push(key);
    }
    if (path.length === 0) return undefined;
  } else {
    return undefined;
  }
  const filters: FastFilter[] = [];
  for (const filter of value.filters) {
    // `default` makes the read lenient (a missing name is no error): Liquid's business.
    if (filter.name === 'default') return undefined;
    const args: unknown[] = [];
    for (const arg of filter.args as Array<Record<string, unknown>>) {
      if (Array.isArray(arg) || !('content' in arg)) return undefined; // `key: value` or a name
      if (arg.content !== null && typeof arg.content === 'object') return undefined;
      args.push(arg.content);
    }
    filters.push({ handler: filter.handler, token: filter.token, args });
  }
  return literal ? { literal, path, filters } : { path, filters };
}

/** The rendered text, or undefined when this render needs Liquid. */
export function renderFast(template: FastTemplate, scope: Record<string, unknown>): string | undefined {
  let text = '';
  for (const part of template) {
    if (typeof part === 'string') {
      text += part;
      continue;
    }
    const value = evaluate(part, scope);
    if (value === GIVE_UP) return undefined;
    text += value;
  }
  return text;
}

/** An output's printed text, or GIVE_UP. */
function evaluate(output: FastOutput, scope: Record<string, unknown>): string | typeof GIVE_UP {
  let value: unknown = output.literal ? output.literal.value : read(scope, output.path);
  if (value === GIVE_UP) return GIVE_UP;
  if (output.filters.length > 0) {
    // Filters account memory on the context (`this.context.memoryLimit`), as under Liquid.
    const context = new Context(scope, liquid.options, { sync: true }, { liquid });
    for (const filter of output.filters) {
      try {
        value = filter.handler.apply({ context, token: filter.token, liquid }, [value, ...filter.args]);
        // A filter may answer a generator (`where`, `find`, `where_exp`, `group_by`, …) whose work —
        // and errors, e.g. strict variables' "undefined variable" — happen only when it is run.
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          if (value instanceof Drop || typeof (value as { next?: unknown }).next === 'function') {
            value = toValueSync(value as never);
          }
        }
      } catch {
        return GIVE_UP; // Liquid renders it again and reports the error its own way, with its place
      }
      if (value instanceof Drop) return GIVE_UP;
    }
  }
  // What Liquid's emitter prints: nothing for nil, strings as they are, numbers and booleans as text.
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return GIVE_UP;
}

function read(scope: Record<string, unknown>, path: Key[]): unknown {
  let value: unknown = scope;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return GIVE_UP;
    if (value instanceof Drop || typeof (value as { toLiquid?: unknown }).toLiquid === 'function') return GIVE_UP;
    if (SPECIAL_KEYS.has(key) || (typeof key === 'number' && key < 0)) return GIVE_UP;
    if (!Object.hasOwn(value, key)) return GIVE_UP;
    value = (value as Record<Key, unknown>)[key];
    if (value === undefined || typeof value === 'function') return GIVE_UP;
  }
  if (value instanceof Drop) return GIVE_UP;
  return value;
}
