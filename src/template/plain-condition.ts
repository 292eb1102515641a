// A `when:` with no template in it is a constant. Written `true`, `false`, `0`… it is meant as one;
// anything else is a condition someone forgot to put in `{{ … }}` — `when: "steps.check.output ==
// 'ok'"` — or YAML 1.1's `when: no`, which YAML 1.2 reads as the text "no". Either is a non-empty
// text, so always true: the step would run every time, spending what its condition was to spare.
import { FALSY_TEXT } from './render.js';

export interface PlainConditionProblem {
  message: string;
  hint: string;
}

/** Words YAML 1.1 read as booleans and YAML 1.2 reads as text. */
const YAML11_BOOLEAN = /^(yes|no|on|off|y|n)$/i;

/** The problem of a `when:` that is plain text and no constant, or undefined when it is fine. */
export function plainConditionProblem(source: string): PlainConditionProblem | undefined {
  if (/\{\{|\{%/.test(source)) return undefined;
  const text = source.trim().toLowerCase();
  if (text === 'true' || FALSY_TEXT.has(text)) return undefined;
  const message = `\`when\` is the plain text ${JSON.stringify(source)}, which is always true: it holds no {{ … }}`;
  if (YAML11_BOOLEAN.test(text)) {
    return { message, hint: `YAML 1.2 reads ${source.trim()} as text, not as a boolean: write "true" or "false"` };
  }
  return {
    message,
    hint: `write the condition inside {{ … }}: when: "{{ ${source.trim().replaceAll('"', '\\"')} }}" (or "true" / "false" for a constant)`,
  };
}
