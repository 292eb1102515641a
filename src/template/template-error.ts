// A template that cannot be rendered: what went wrong, which variable, and where in the template.
// Only the template text is quoted, never the values of the scope (they may hold user data).
import { ElexirionError, ExitCode } from '../errors.js';

export interface TemplateErrorDetails {
  /** The template source. */
  source: string;
  /** Character offset of the problem inside `source`, when known. */
  offset?: number;
  /** The dotted name of the variable that was not defined, for undefined-variable errors. */
  variable?: string;
  hint?: string;
}

const EXCERPT_BEFORE = 30;
const EXCERPT_AFTER = 50;

/** A one-line window of `source` around `offset`, with `…` where it was cut. */
export function excerpt(source: string, offset = 0): string {
  const start = Math.max(0, offset - EXCERPT_BEFORE);
  const end = Math.min(source.length, offset + EXCERPT_AFTER);
  const text = source.slice(start, end).replace(/\s+/g, ' ');
  return `${start > 0 ? '…' : ''}${text}${end < source.length ? '…' : ''}`;
}

export class TemplateError extends ElexirionError {
  /** What went wrong, without the quoted template (for callers that locate it themselves). */
  readonly problem: string;
  readonly source: string;
  readonly offset?: number;
  readonly variable?: string;
  constructor(problem: string, details: TemplateErrorDetails) {
    super(`${problem} in template "${excerpt(details.source, details.offset)}"`, {
      exitCode: ExitCode.runFailed,
      ...(details.hint === undefined ? {} : { hint: details.hint }),
    });
    this.problem = problem;
    this.source = details.source;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.variable !== undefined) this.variable = details.variable;
  }
}
