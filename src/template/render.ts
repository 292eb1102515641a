// Rendering templates at run time. Synchronous (Liquid's sync API) and cached: the engine calls
// these for every step and every batch item, so a cached template costs microseconds.
import { Context, toValueSync } from 'liquidjs';
import { renderFast } from './fast-render.js';
import { liquid } from './liquid.js';
import { toTemplateError } from './liquid-errors.js';
import { parseTemplate } from './parse-cache.js';
import type { TemplateScope } from './scope.js';

/** Whether `source` contains Liquid markup at all; plain text never reaches Liquid. */
export function isTemplate(source: string): boolean {
  return source.includes('{{') || source.includes('{%');
}

/**
 * The longest text a template may render: four million characters, about a million tokens — more
 * than any model reads. A loop printing more (within the time limit) is an error, not a prompt
 * that takes the process's memory.
 */
export const MAX_RENDERED_CHARS = 4_000_000;

/** Renders `source` to text. Throws a TemplateError naming the undefined variable or the bad syntax. */
export function renderString(source: string, scope: TemplateScope): string {
  if (!isTemplate(source)) return source;
  const { templates, fast } = parseTemplate(source);
  if (fast !== undefined) {
    const text = renderFast(fast, scope);
    if (text !== undefined) return bounded(text, source);
  }
  let text: string;
  try {
    text = String(liquid.renderSync(templates, ownScope(scope)));
  } catch (error) {
    throw toTemplateError(error, source, undefined, scope);
  }
  return bounded(text, source);
}

/**
 * A copy of the scope's top level for one Liquid render: `{% increment x %}` and `{% decrement x %}`
 * write into what Liquid is given, and the run's scope is shared by every later template (and by
 * parallel siblings) — one prompt's counter replaced `steps` for the rest of the run. Templates
 * never write to the run's scope.
 */
function ownScope(scope: TemplateScope): TemplateScope {
  return Object.assign({}, scope);
}

function bounded(text: string, source: string): string {
  if (text.length <= MAX_RENDERED_CHARS) return text;
  throw toTemplateError(
    new Error(`the template rendered ${text.length} characters, more than ${MAX_RENDERED_CHARS}`),
    source,
  );
}

/**
 * Renders `source` keeping the type of the value: when the whole string is one output tag
 * (`"{{ source_files }}"`, `" {{ steps.plan.output | first }} "`), the evaluated value itself is
 * returned — an array stays an array, an object an object, a number a number. Anything else
 * (text around the tag, two tags, a `{% … %}` tag) renders to a string.
 */
export function renderValue(source: string, scope: TemplateScope): unknown {
  if (!isTemplate(source)) return source;
  const { templates, soleOutput } = parseTemplate(source);
  try {
    if (soleOutput === undefined) return bounded(String(liquid.renderSync(templates, ownScope(scope))), source);
    const context = new Context(scope, liquid.options, { sync: true }, { liquid });
    return toValueSync(soleOutput.value.value(context, false));
  } catch (error) {
    throw toTemplateError(error, source, soleOutput?.token.begin, scope);
  }
}

/** Renders every string inside `value` (objects and arrays, recursively) with `renderValue`. */
/**
 * With `failed`: a template that throws is handed to it with its place under `value` (keys and
 * indexes), to be thrown as the caller words it (engine/located-render.ts). Without, no place is
 * kept: the usual case pays nothing for it.
 */
export function renderDeep(
  value: unknown,
  scope: TemplateScope,
  failed?: (error: unknown, at: (string | number)[]) => never,
  at: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!failed) return renderValue(value, scope);
    try {
      return renderValue(value, scope);
    } catch (error) {
      return failed(error, at);
    }
  }
  if (Array.isArray(value))
    return value.map((element, i) => renderDeep(element, scope, failed, failed ? [...at, i] : at));
  if (isPlainObject(value)) {
    const rendered: Record<string, unknown> = {};
    for (const [key, element] of Object.entries(value))
      rendered[key] = renderDeep(element, scope, failed, failed ? [...at, key] : at);
    return rendered;
  }
  return value;
}

// `[]` and `{}`: an empty list or map renders as its JSON — `when: "{{ steps.find.output }}"` must
// skip when the step found nothing.
export const FALSY_TEXT: ReadonlySet<string> = new Set(['', 'false', '0', 'nil', 'null', '[]', '{}']);

/**
 * A `when:` condition: renders `source`, then reads the text. Empty or blank text, `false`, `0`,
 * `nil`, `null` and an empty list or map (`[]`, `{}`) are false; anything else is true. Comparisons work inside the output tag:
 * `{{ steps.review.output.verdict == 'needs_work' }}` renders `true` or `false`
 * (==, !=, <, <=, >, >=, contains, and, or).
 */
export function evaluateCondition(source: string, scope: TemplateScope): boolean {
  return !FALSY_TEXT.has(renderString(source, scope).trim().toLowerCase());
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
