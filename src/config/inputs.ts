// The inputs of a run: given values (CLI strings, JSON, an API body) checked against the declared
// inputs, read as their declared types, completed with defaults (a null value counts as not given).
// All problems are reported at once.
import { ConfigError, type Diagnostic } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import {
  coerceInput,
  INPUT_TYPE_EXAMPLES,
  isUnsafeInteger,
  matchesInputType,
  UNSAFE_INTEGER_HINT,
  unsafeIntegerProblem,
} from './input-types.js';
import type { LoadedPipeline } from './loader.js';
import { describeValue } from './path.js';
import type { Pipeline } from './schema.js';

/**
 * The inputs a run sees. Pass the LoadedPipeline to have errors point at the declarations
 * (file:line:col); a bare Pipeline gives no position (line 0) in a file named `<pipeline NAME>`.
 */
export function resolveInputs(
  target: LoadedPipeline | Pipeline,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const loaded = 'locate' in target ? target : undefined;
  const pipeline = loaded ? loaded.pipeline : (target as Pipeline);
  const declared = pipeline.inputs ?? {};
  const names = Object.keys(declared);
  const diagnostics: Diagnostic[] = [];
  const report = (name: string, message: string, hint: string, declaredHere: boolean) => {
    const where = loaded ? loaded.locate(declaredHere ? ['inputs', name] : ['inputs']) : { line: 0, col: 0 };
    diagnostics.push({
      file: loaded?.shownAs ?? loaded?.file ?? `<pipeline ${pipeline.name}>`,
      ...where,
      path: `inputs.${name}`,
      message,
      hint,
    });
  };

  // Own properties only: `name in` would find `constructor`, `toString`... on Object.prototype.
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(declared, name)) continue;
    const guess = didYouMean(name, names);
    report(
      name,
      `unknown input "${name}": the pipeline does not declare it`,
      guess ? `did you mean "${guess}"?` : `declared inputs: ${names.join(', ') || '(none)'}`,
      false,
    );
  }

  const resolved: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(declared)) {
    // null is no value of any input type: it is what a skipped step's output is, and what a
    // previous chain link outputs from one. Given as null, an input is not given — its default
    // applies, as it does for one never given (and for a run resumed with --force).
    if (!Object.hasOwn(given, name) || given[name] === undefined || given[name] === null) {
      if (input.default !== undefined) resolved[name] = structuredClone(input.default);
      else if (input.required === true) {
        report(name, `missing required input "${name}" (${input.type})`, missingInputHint(name), true);
      }
      // An optional input nobody gave is null, so that strict templates can test it (`{% if x %}`).
      else resolved[name] = null;
      continue;
    }
    const value = coerceInput(given[name], input.type);
    if (nestingOf(value) > MAX_INPUT_NESTING) {
      report(
        name,
        `input "${name}" is nested more than ${MAX_INPUT_NESTING} levels deep`,
        'flatten it: no template reads that deep, and the journal must be able to write it',
        true,
      );
      continue;
    }
    if (isUnsafeInteger(value, input.type)) {
      const written = typeof given[name] === 'string' ? given[name].trim() : String(value);
      report(
        name,
        `input "${name}" is ${written}, ${unsafeIntegerProblem(written, value as number)}`,
        UNSAFE_INTEGER_HINT,
        true,
      );
      continue;
    }
    if (!matchesInputType(value, input.type)) {
      report(
        name,
        `input "${name}" must be ${input.type}, got ${describeValue(given[name])}`,
        `give ${INPUT_TYPE_EXAMPLES[input.type]}`,
        true,
      );
      continue;
    }
    if (input.enum && !input.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
      report(
        name,
        `input "${name}" is ${describeValue(value)}, which is not one of its allowed values`,
        `allowed: ${input.enum.map((o) => JSON.stringify(o)).join(', ')}`,
        true,
      );
      continue;
    }
    resolved[name] = value;
  }

  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return resolved;
}

/**
 * Lists and objects inside one another at most this deep. A 10 KB request body nesting thousands of
 * arrays overflowed the stack of the JSON encoder that journals a run's inputs (an internal error,
 * HTTP 500) instead of being refused as the bad input it is.
 */
export const MAX_INPUT_NESTING = 100;

/** How deep lists and objects nest in `value` (0 for a scalar); counted without recursion. */
function nestingOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > MAX_INPUT_NESTING) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The hint of a missing required input: how `run` (and `chain`) pass one. */
export function missingInputHint(name: string): string {
  return `pass it with --input ${name}=VALUE`;
}

/**
 * `error` with the hint of each missing required input replaced by `hint(name, diagnostic)`, for
 * callers where `--input` is not how inputs are given (`resume`: a run keeps its inputs). Any
 * other error, or diagnostic, is left as it is.
 */
export function rehintMissingInputs(error: unknown, hint: (name: string, diagnostic: Diagnostic) => string): unknown {
  if (!(error instanceof ConfigError)) return error;
  let changed = false;
  const diagnostics = error.diagnostics.map((d) => {
    const name = d.path.startsWith('inputs.') ? d.path.slice('inputs.'.length) : undefined;
    if (name === undefined || d.hint !== missingInputHint(name)) return d;
    changed = true;
    return { ...d, hint: hint(name, d) };
  });
  return changed ? new ConfigError(diagnostics) : error;
}
