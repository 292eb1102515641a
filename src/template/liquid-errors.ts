// Translates LiquidJS's errors into Elexirion's: a message without Liquid's own `line:col`
// suffix (we report offsets and the loader turns them into file:line:col), the offset of the
// problem in the template, and a hint.
import { LiquidError } from 'liquidjs';
import { liquid } from './liquid.js';
import type { TemplateScope } from './scope.js';
import { didYouMean } from './suggest.js';
import { TemplateError } from './template-error.js';
import { scalarPathHint } from './variable-hint.js';

export interface LiquidProblem {
  message: string;
  offset?: number;
  variable?: string;
  hint?: string;
}

const LINE_COL_SUFFIX = /, line:\d+, col:\d+$/;

/** What a LiquidJS error (or an error thrown while evaluating a value) says, located in `source`. */
export function describeLiquidError(error: unknown, source: string, fallbackOffset?: number): LiquidProblem {
  const original = LiquidError.is(error) ? (error.originalError ?? error) : error;
  const offset = LiquidError.is(error) ? error.token.begin : fallbackOffset;
  const variable = undefinedVariableName(original);
  if (variable !== undefined) {
    return {
      // Liquid locates a variable error at the variable when it can; when it cannot (a value
      // evaluated on its own), point at the first use of the variable's root name.
      offset: offset === undefined ? undefined : locateName(source, variable, offset),
      message: `undefined variable "${variable}"`,
      variable,
      hint: "the name is not in this template's scope; use `| default: …` for a value that may be absent",
    };
  }
  const text = (original instanceof Error ? original.message : String(original)).replace(LINE_COL_SUFFIX, '');
  const filter = /^undefined filter: (\S+)/.exec(text)?.[1];
  if (filter !== undefined) return unknownFilter(filter, source, offset);
  return { message: text, ...(offset === undefined ? {} : { offset }), hint: syntaxHint(text) };
}

/** What to do about a Liquid syntax error: the usual causes, and where the syntax is described. */
function syntaxHint(message: string): string {
  if (/not closed/.test(message)) {
    return 'close it: `{% if … %}` needs `{% endif %}`, `{% for … %}` needs `{% endfor %}`, `{{` needs `}}` (docs/templates.md)';
  }
  return 'check the tag or expression here: values go in `{{ … }}`, logic in `{% … %}` (docs/templates.md)';
}

/** `scope`, when given, says why a variable whose path runs into text is undefined (variable-hint.ts). */
export function toTemplateError(
  error: unknown,
  source: string,
  fallbackOffset?: number,
  scope?: TemplateScope,
): TemplateError {
  const problem = describeLiquidError(error, source, fallbackOffset);
  const sharper = problem.variable !== undefined && scope ? scalarPathHint(problem.variable, scope) : undefined;
  // In the message, not the hint: a step's error shows the message alone.
  if (sharper !== undefined) problem.message = `${problem.message} (${sharper})`;
  return new TemplateError(problem.message, { source, ...withoutMessage(problem) });
}

function withoutMessage({ message: _message, ...rest }: LiquidProblem): Omit<LiquidProblem, 'message'> {
  return rest;
}

function locateName(source: string, variable: string, from: number): number {
  const root = /^[^.[]+/.exec(variable)?.[0] ?? variable;
  const at = source.indexOf(root, from);
  return at === -1 ? from : at;
}

function undefinedVariableName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { variableName?: unknown }).variableName;
  return typeof name === 'string' ? name : undefined;
}

/** Points at the filter's name rather than at the start of its `{{ … }}`, and suggests a known one. */
function unknownFilter(name: string, source: string, tokenOffset: number | undefined): LiquidProblem {
  const from = tokenOffset ?? 0;
  const match = new RegExp(`\\|\\s*(${escapeRegExp(name)})\\b`).exec(source.slice(from));
  const offset = match ? from + match.index + match[0].length - name.length : tokenOffset;
  const hint = didYouMean(
    name,
    Object.keys(liquid.filters),
    "filters are Liquid's own (https://liquidjs.com/filters/overview.html) plus json, yaml and truncate_tokens",
  );
  return { message: `unknown filter "${name}"`, ...(offset === undefined ? {} : { offset }), hint };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
