// The one Liquid engine every template of every pipeline goes through, configured so that a
// template can only read what the run puts in its scope: strict variables and filters (a typo is
// an error, never an empty string), no file system (a pipeline must not read files through
// `include`/`render`/`layout`), and no output escaping (prompts are text, not HTML).
import { Liquid } from 'liquidjs';
import { stringify as toYaml } from 'yaml';
import { cutText } from '../text-cut.js';

/** Filters Elexirion adds to Liquid's own. */
export const CUSTOM_FILTERS = ['json', 'yaml', 'truncate_tokens'] as const;

/** Tags that would read templates from disk: removed, so using one is a syntax error. */
const FILE_TAGS = ['include', 'render', 'layout'] as const;

/** Approximate characters per token (English text, BPE tokenizers). Not a tokenizer. */
export const CHARS_PER_TOKEN = 4;

/**
 * Liquid's last filter on every `{{ … }}` (its `outputEscape`). Exported so that renderValue, which
 * wants the value itself rather than its printed form, can leave it out.
 */
export function printObjectsAsJson(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

function createLiquid(): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    strictFilters: true,
    // `{% if x %}` and `x | default: …` may test a name that is absent (e.g. a skipped step's
    // output) without failing; every other read of an absent name is an error.
    lenientIf: true,
    // Only plain own properties are readable: `{{ x.constructor }}` is undefined, not a function.
    ownPropertyOnly: true,
    // An in-memory, empty file system: even if a file tag came back, it would find nothing.
    templates: {},
    // Guards against runaway templates (`{% for i in (1..1000000000) %}`). The memory limit counts
    // range elements and the characters of strings filters build, checked before they are made: a
    // billion let `{{ (1..900000000) | size }}` crash the process (a V8 fatal error nothing can
    // catch: one inline pipeline took `serve` down). Ten million is far beyond any prompt (a model's
    // context holds some hundreds of thousands of tokens) and what V8 holds comfortably. What loops
    // print is bounded by the time limit and by MAX_RENDERED_CHARS (render.ts).
    renderLimit: 2_000,
    memoryLimit: 10_000_000,
    // A structured step's output printed in a prompt reads as JSON, not `[object Object]` (Liquid's
    // default) or its array elements run together; strings and numbers print as themselves.
    outputEscape: printObjectsAsJson as (value: unknown) => string,
  });
  for (const tag of FILE_TAGS) delete liquid.tags[tag];

  /** `{{ x | json }}`, `{{ x | json: 2 }}`: JSON text; `undefined` becomes `null`. */
  liquid.registerFilter('json', (value: unknown, indent?: unknown) => {
    const space = typeof indent === 'number' || typeof indent === 'string' ? indent : undefined;
    return JSON.stringify(value, null, space) ?? 'null';
  });

  /** `{{ x | yaml }}`: YAML text without the trailing newline, so that it inlines cleanly. */
  liquid.registerFilter('yaml', (value: unknown) => toYaml(value).replace(/\n$/, ''));

  /**
   * `{{ text | truncate_tokens: 1000 }}`: keeps at most N × 4 characters. Four characters per
   * token is a rough average for English with BPE tokenizers, not a count by the model's own
   * tokenizer: code, non-Latin scripts and numbers use more tokens per character, so leave room.
   */
  liquid.registerFilter('truncate_tokens', (value: unknown, maxTokens: unknown) => {
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new Error(`truncate_tokens needs a whole number of tokens, such as truncate_tokens: 1000`);
    }
    return cutText(asText(value), maxTokens * CHARS_PER_TOKEN);
  });
  return liquid;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export const liquid: Liquid = createLiquid();

/**
 * The same engine with unknown filters allowed, used only to list the variables of a template
 * whose filter is misspelt — so that one typo does not hide the other mistakes of that template.
 * Never used to render.
 */
export const lenientFilterLiquid: Liquid = new Liquid({ strictFilters: false, templates: {} });
for (const tag of FILE_TAGS) delete lenientFilterLiquid.tags[tag];
