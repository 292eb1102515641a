// Load-time checks of the literal arguments of Elexirion's own filters. `truncate_tokens` throws
// when it is rendered without a whole number of tokens; written with no argument or a literal of
// the wrong kind (`truncate_tokens: -5`, `truncate_tokens: '100'`), that mistake is certain, so it
// is reported by `validate` rather than failing the step after the earlier ones have been paid for.
// An argument read from the scope (`truncate_tokens: budget`) is checked when it is rendered.
import { type Template, TokenKind, toValueSync, Value } from 'liquidjs';
import { parseTemplate } from './parse-cache.js';

export interface FilterArgumentProblem {
  message: string;
  hint: string;
  /** Character offset of the filter in the template source. */
  offset: number;
}

// The parts of liquidjs's Filter and tokens read here are not in its typings; they are how it runs.
interface FilterInternals {
  name: string;
  args: unknown[];
  token: { begin: number };
}

const TRUNCATE_TOKENS_HINT = 'give a whole number of tokens, such as truncate_tokens: 1000';

/** The problems of the filter arguments of `source`; none when it does not parse (listReferences says why). */
export function filterArgumentProblems(source: string): FilterArgumentProblem[] {
  if (!source.includes('{{') && !source.includes('{%')) return [];
  let templates: Template[];
  try {
    templates = parseTemplate(source).templates;
  } catch {
    return []; // a syntax error or an unknown filter: reported as such by the caller
  }
  const problems: FilterArgumentProblem[] = [];
  for (const value of valuesOf(templates)) {
    for (const filter of value.filters as unknown as FilterInternals[]) {
      if (filter.name !== 'truncate_tokens') continue;
      const problem = truncateTokensProblem(filter.args);
      if (problem !== undefined)
        problems.push({ message: problem, hint: TRUNCATE_TOKENS_HINT, offset: filter.token.begin });
    }
  }
  return problems.sort((a, b) => a.offset - b.offset);
}

function truncateTokensProblem(args: unknown[]): string | undefined {
  if (args.length !== 1) {
    return `truncate_tokens takes one argument, the number of tokens; got ${args.length === 0 ? 'none' : args.length}`;
  }
  const [arg] = args;
  if (Array.isArray(arg)) return 'truncate_tokens takes the number of tokens, not a named argument';
  const token = arg as { kind?: number; content?: unknown; getText(): string };
  // A name or an expression: its value is known only when the template is rendered.
  if (token.kind !== TokenKind.Number && token.kind !== TokenKind.Quoted && token.kind !== TokenKind.Literal) {
    return undefined;
  }
  const n = token.content;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return undefined;
  return `truncate_tokens needs a whole number of tokens, got ${token.getText()}`;
}

/** Every filtered value of the templates, nested tags' included (`{% if %}`, `{% assign %}`, …). */
function* valuesOf(templates: Template[]): Generator<Value> {
  for (const template of templates) {
    if (template.arguments) {
      for (const argument of template.arguments()) if (argument instanceof Value) yield argument;
    }
    if (template.children) yield* valuesOf(toValueSync(template.children(false, true)) as Template[]);
  }
}
