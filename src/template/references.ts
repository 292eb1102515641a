// The variables a template reads, found by LiquidJS's static analysis — for the load-time checks.
// Only globals are listed: names a template declares itself (`assign`, `capture`, `for` loop
// variables, `forloop`) are its own business.
import type { Template, Variable } from 'liquidjs';
import { lenientFilterLiquid, liquid } from './liquid.js';
import { toTemplateError } from './liquid-errors.js';
import { parseTemplate } from './parse-cache.js';

export interface Reference {
  /**
   * The static part of the path read, e.g. `['steps', 'plan', 'output']` for
   * `{{ steps.plan.output.text }}` (it would be `[…, 'output', 'text']`). A path stops at the
   * first segment computed at run time (`steps[name]` gives `['steps']`).
   */
  path: (string | number)[];
  /** True when the path was cut at a segment computed at run time. */
  dynamic: boolean;
  /** Character offset of the reference in the template source. */
  offset: number;
}

/**
 * Lists the global variables `source` reads, in source order. Plain text has none. Throws a
 * TemplateError (with the offset of the problem) on a syntax error, or on an unknown filter
 * unless `ignoreUnknownFilters` (used to keep checking a template after reporting its filter).
 */
export function listReferences(source: string, options: { ignoreUnknownFilters?: boolean } = {}): Reference[] {
  if (!source.includes('{{') && !source.includes('{%')) return [];
  const templates = options.ignoreUnknownFilters ? parseIgnoringFilters(source) : parseTemplate(source).templates;
  const analysis = liquid.analyzeSync(templates, { partials: false });
  const lineStarts = lineOffsets(source);
  const references: Reference[] = [];
  for (const variables of Object.values(analysis.globals)) {
    for (const variable of variables) references.push(toReference(variable, lineStarts));
  }
  return references.sort((a, b) => a.offset - b.offset);
}

function parseIgnoringFilters(source: string): Template[] {
  try {
    return lenientFilterLiquid.parse(source);
  } catch (error) {
    throw toTemplateError(error, source);
  }
}

function toReference(variable: Variable, lineStarts: number[]): Reference {
  const path: (string | number)[] = [];
  let dynamic = false;
  for (const segment of variable.segments) {
    if (typeof segment !== 'string' && typeof segment !== 'number') {
      dynamic = true;
      break;
    }
    path.push(segment);
  }
  const { row, col } = variable.location;
  return { path, dynamic, offset: (lineStarts[row - 1] ?? 0) + col - 1 };
}

/** The offset at which each line starts (Liquid locates variables by 1-based row and column). */
function lineOffsets(source: string): number[] {
  const starts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
