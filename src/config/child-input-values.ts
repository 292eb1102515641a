// A `pipeline` step's `inputs:` written as plain values (no template) are known at load time: each
// is checked against the child's declared type and enum here, as resolveInputs will check it when
// the step runs — so `count: "three"` for an integer input is an error before anything is paid
// for, at its place in the parent's file, not a failure after the steps before it have run.
// Values with templates are only known once rendered: resolveInputs checks them at run time.
import { isTemplate } from '../template/render.js';
import { coerceInput, INPUT_TYPE_EXAMPLES, isUnsafeInteger, matchesInputType } from './input-types.js';
import { type DocPath, describeValue } from './path.js';
import type { Problem } from './problem.js';
import type { Input } from './schema.js';

export function literalInputProblems(
  declared: Record<string, Input>,
  given: Record<string, unknown>,
  path: DocPath,
  what: string,
): Problem[] {
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(given)) {
    const input = Object.hasOwn(declared, name) ? declared[name] : undefined;
    // null is an input not given (its default applies); an undeclared name is reported apart.
    if (input === undefined || value === null || value === undefined || hasTemplate(value)) continue;
    const read = coerceInput(value, input.type);
    // An integer past 2^53 is refused at run time with its own wording: left to it.
    if (isUnsafeInteger(read, input.type)) continue;
    if (!matchesInputType(read, input.type)) {
      problems.push({
        path: [...path, 'inputs', name],
        message: `${what} declares input "${name}" as ${input.type}, but this step gives it ${describeValue(value)}`,
        hint: `give ${INPUT_TYPE_EXAMPLES[input.type]}`,
      });
    } else if (input.enum && !input.enum.some((o) => JSON.stringify(o) === JSON.stringify(read))) {
      problems.push({
        path: [...path, 'inputs', name],
        message: `${what} allows input "${name}" only some values, and ${describeValue(value)} is not one of them`,
        hint: `allowed: ${input.enum.map((o) => JSON.stringify(o)).join(', ')}`,
      });
    }
  }
  return problems;
}

/** Whether a value holds a template anywhere (rendered at run time, so unknown now). */
function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return isTemplate(value);
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasTemplate);
  return false;
}
