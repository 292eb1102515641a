// Parsed templates by source text. The engine renders the same few templates on every step and
// every batch item; parsing is the expensive part, so each distinct source is parsed once.
// Bounded (least recently used goes first) because sources can be built at run time.
import { Output, type Template, TokenKind } from 'liquidjs';
import { compileFast, type FastTemplate } from './fast-render.js';
import { liquid, printObjectsAsJson } from './liquid.js';
import { toTemplateError } from './liquid-errors.js';

export interface ParsedTemplate {
  templates: Template[];
  /** The template's only `{{ … }}` when the source is that tag and nothing else (but whitespace). */
  soleOutput?: Output;
  /** The shortcut past Liquid's evaluator, when every part of the template allows it (fast-render.ts). */
  fast?: FastTemplate;
}

export const PARSE_CACHE_LIMIT = 2_000;
const cache = new Map<string, ParsedTemplate>();
const stats = { parses: 0, hits: 0 };

/** Parses `source` (or returns its cached parse). Throws a TemplateError on a syntax error. */
export function parseTemplate(source: string): ParsedTemplate {
  const cached = cache.get(source);
  if (cached !== undefined) {
    stats.hits++;
    // Move to the back: the Map's insertion order is the eviction order.
    cache.delete(source);
    cache.set(source, cached);
    return cached;
  }
  stats.parses++;
  let templates: Template[];
  try {
    templates = liquid.parse(source);
  } catch (error) {
    throw toTemplateError(error, source);
  }
  const soleOutput = rawValueOutput(findSoleOutput(templates));
  const parsed: ParsedTemplate = soleOutput === undefined ? { templates } : { templates, soleOutput };
  const fast = compileFast(templates);
  if (fast !== undefined) parsed.fast = fast;
  if (cache.size >= PARSE_CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(source, parsed);
  return parsed;
}

function findSoleOutput(templates: Template[]): Output | undefined {
  let sole: Output | undefined;
  for (const template of templates) {
    const { kind, input, begin, end } = template.token;
    if (kind === TokenKind.HTML && input.slice(begin, end).trim() === '') continue;
    if (sole !== undefined || !(template instanceof Output)) return undefined;
    sole = template;
  }
  return sole;
}

/**
 * The same output without the print-as-JSON filter Liquid appends to every output tag: a sole
 * output is evaluated for its value (an array stays an array), not printed.
 */
function rawValueOutput(output: Output | undefined): Output | undefined {
  if (output === undefined) return undefined;
  const { value } = output;
  // `handler` is private in liquidjs's typings but stable at run time (it is how filters run).
  const last = value.filters[value.filters.length - 1] as unknown as { handler?: unknown } | undefined;
  if (last?.handler !== printObjectsAsJson) return output;
  const rawValue = Object.assign(Object.create(Object.getPrototypeOf(value)), value, {
    filters: value.filters.slice(0, -1),
  });
  return Object.assign(Object.create(Object.getPrototypeOf(output)), output, { value: rawValue });
}

/** Counters for tests and diagnostics: how often a source was parsed vs. found in the cache. */
export function parseCacheStats(): { parses: number; hits: number; size: number } {
  return { ...stats, size: cache.size };
}

export function clearParseCache(): void {
  cache.clear();
  stats.parses = 0;
  stats.hits = 0;
}
