// Translates zod's issues into problems a person can act on: which key, what was expected, what
// was found, and a hint (did-you-mean for misspelt keys, step types and enum values).
import type { z } from 'zod';
import { didYouMean, suggestion } from './did-you-mean.js';
import { pipelineDurationKeys } from './duration-keys.js';
import { type DocPath, describeValue, valueAt } from './path.js';
import type { Problem } from './problem.js';
import { InputType, LLM_STEP_TYPES, MAX_TIMER_MS, Pipeline, STEP_TYPES } from './schema.js';
import { allowedKeysAt } from './schema-keys.js';

type Issue = z.core.$ZodIssue;

/** Problems for every zod issue, in document order of their paths. */
export function zodProblems(issues: readonly Issue[], data: unknown): Problem[] {
  return withoutSafeRangeEchoes(issues)
    .filter((issue) => !keysOfRefusedTemplate(issue, data))
    .flatMap((issue) => translate(issue, issue.path as DocPath, data))
    .map((problem) => (problem.hint === undefined ? { ...problem, hint: DOCS_HINT } : problem));
}

/**
 * A `step_template` whose type is a step that is no model call (`pipeline`, `parallel` …): that type
 * is the one mistake, told with why (stepTemplateTypeHint); its own keys (`file:`, `steps:`) listed
 * as unknown too would only bury it.
 */
function keysOfRefusedTemplate(issue: Issue, data: unknown): boolean {
  if (issue.code !== 'unrecognized_keys' || issue.path[issue.path.length - 1] !== 'step_template') return false;
  return NOT_A_CALL.has(String(valueAt(data, [...(issue.path as DocPath), 'type'])));
}

const NOT_A_CALL: ReadonlySet<string> = new Set(
  STEP_TYPES.filter((t) => !(LLM_STEP_TYPES as readonly string[]).includes(t)),
);

function stepTemplateTypeHint(path: DocPath, value: unknown): string | undefined {
  if (path[path.length - 2] !== 'step_template' || !NOT_A_CALL.has(String(value))) return undefined;
  const instead = value === 'pipeline' ? '; a child pipeline may run a batch instead' : '';
  return `a batch maps one model call over its items: a "${String(value)}" step cannot be its step_template${instead}`;
}

const DOCS_HINT = 'see docs/pipeline-format.md for what this key accepts';

/**
 * zod's `int()` also bounds a number to the safe integers, reported as an issue of its own: a
 * `timeout: 99999999999999999999` got "at most 9007199254740991" beside "at most 596h". The key's own
 * bound is the one to tell; the safe range only when it is the sole bound of that value.
 */
function withoutSafeRangeEchoes(issues: readonly Issue[]): readonly Issue[] {
  const key = (issue: Issue) => JSON.stringify(issue.path);
  const safeRange = (issue: Issue) =>
    (issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'int';
  const bounded = new Set(issues.filter((i) => !safeRange(i)).map(key));
  return issues.filter((issue) => !safeRange(issue) || !bounded.has(key(issue)));
}

const DURATION_HINT = 'a number and a unit with no space (250ms, 30s, 5m, 1h), or a number of milliseconds';

/** Why what a missing `name:` belongs to needs one: the pipeline (top level or inline), or a step. */
function whoseName(path: DocPath): string {
  return path.length === 1 || path[path.length - 2] === 'pipeline'
    ? 'every pipeline needs a name, e.g. `name: my-pipeline` (lower-case letters, digits, - and _)'
    : 'every step needs a unique name';
}

function translate(issue: Issue, path: DocPath, data: unknown): Problem[] {
  const value = valueAt(data, path);
  const last = path[path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(Pipeline, data, path) ?? [];
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: 'key',
        message: `unknown key "${key}"`,
        hint: allowed.length > 0 ? suggestion(key, allowed, 'the keys allowed here are') : 'remove it',
      }));
    }
    case 'invalid_union':
      return translateUnion(issue, path, data, value);
    case 'invalid_type':
      if (value === undefined) {
        return [
          {
            path,
            message: `missing required key "${String(last)}"`,
            hint: `add \`${String(last)}:\` (${article(issue.expected)})${last === 'name' ? `; ${whoseName(path)}` : ''}`,
          },
        ];
      }
      return [typeProblem(path, [issue.expected], value)];
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const guess = typeof value === 'string' ? didYouMean(value, options) : undefined;
      const hint = stepTemplateTypeHint(path, value) ?? (guess === undefined ? undefined : `did you mean "${guess}"?`);
      return [
        {
          path,
          message: `${describeValue(value)} is not allowed here: expected one of ${options.join(', ')}`,
          ...(hint === undefined ? {} : { hint }),
        },
      ];
    }
    case 'invalid_format':
      return [
        {
          path,
          message: `${describeValue(value)} is not valid: expected ${formatExpectation(issue)}`,
          hint: formatHint(issue, last),
        },
      ];
    case 'too_big':
      if (issue.origin === 'number' && issue.maximum === MAX_TIMER_MS) return [timerProblem(path, value)];
      return [{ path, message: boundMessage(issue, value), hint: `change the value to one within the limit` }];
    case 'custom':
      if ((issue.params as { timer?: boolean } | undefined)?.timer) return [timerProblem(path, value)];
      return [{ path, message: issue.message }];
    case 'too_small':
      return [{ path, message: boundMessage(issue, value), hint: tooSmallHint(issue, last) }];
    case 'invalid_key': {
      const key = String(last);
      const inner = issue.issues[0];
      const expected = inner?.code === 'invalid_format' ? formatExpectation(inner) : 'a valid name';
      return [
        {
          path,
          at: 'key',
          message: `the name "${key}" is not valid: expected ${expected}`,
          hint: 'names are used in templates: lower-case letters, digits and _, not starting with a digit',
        },
      ];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** A duration longer than a Node.js timer holds (schema.ts TimerDuration). */
function timerProblem(path: DocPath, value: unknown): Problem {
  return {
    path,
    message: `the duration ${typeof value === 'number' ? `${value} ms` : String(value)} is too long: at most 596h (${MAX_TIMER_MS} ms, about 24.8 days), the longest delay Node.js timers can hold`,
    hint: 'write 596h or less; a longer timer would fire at once',
  };
}

function translateUnion(issue: z.core.$ZodIssueInvalidUnion, path: DocPath, data: unknown, value: unknown): Problem[] {
  if ((issue as { note?: string }).note === 'No matching discriminator') {
    const stepPath = path[path.length - 1] === 'type' ? path : [...path, 'type'];
    const type = valueAt(data, stepPath);
    if (type === undefined) {
      return [
        {
          path: stepPath,
          message: 'missing required key "type"',
          hint: `add \`type:\`, one of: ${STEP_TYPES.join(', ')}`,
        },
      ];
    }
    const guess = typeof type === 'string' ? didYouMean(type, STEP_TYPES) : undefined;
    return [
      {
        path: stepPath,
        message: `unknown step type ${JSON.stringify(type)}`,
        hint: `${guess === undefined ? '' : `did you mean "${guess}"? `}The step types are: ${STEP_TYPES.join(', ')}`,
      },
    ];
  }
  // Each branch of the union failed. If one failed deeper than its top level (the value had the
  // right shape but a wrong part), that branch is what the user meant: report its issues.
  const branches = issue.errors;
  const shapeMismatch = (errors: Issue[]) => errors.every((e) => e.path.length === 0 && e.code === 'invalid_type');
  const meant = branches.find((errors) => !shapeMismatch(errors));
  if (meant) return meant.flatMap((e) => translate(e, [...path, ...(e.path as DocPath)], data));
  const expected = branches.flatMap((errors) => errors.map((e) => (e.code === 'invalid_type' ? e.expected : '')));
  return [typeProblem(path, [...new Set(expected.filter(Boolean))], value)];
}

function typeProblem(path: DocPath, expected: string[], value: unknown): Problem {
  const wanted = expected.map(article).join(' or ') || 'another value';
  if (typeof value === 'number' && (expected.includes('number') || expected.includes('int'))) {
    return numberProblem(path, wanted, value);
  }
  const message = `expected ${wanted}, got ${describeValue(value)}`;
  const hint = shorthandInputHint(path, value) ?? typeHint(expected, value);
  return hint === undefined ? { path, message } : { path, message, hint };
}

/**
 * A number where a number is accepted, refused all the same: not finite (`.inf`, `.nan`, or more
 * digits than a double holds, which YAML reads as Infinity), or not whole where an integer is
 * wanted. Putting it in quotes (the hint for a number where text is wanted) would not help.
 */
function numberProblem(path: DocPath, wanted: string, value: number): Problem {
  const got = Number.isNaN(value)
    ? '.nan (not a number)'
    : Number.isFinite(value)
      ? describeValue(value)
      : `an infinite number (${value > 0 ? '' : '-'}.inf, or more digits than a number holds)`;
  // A key whose value is a duration (docs/pipeline-format.md#durations): a number there is milliseconds.
  const key = path[path.length - 1];
  const duration = typeof key === 'string' && pipelineDurationKeys().has(key);
  const hint = duration
    ? DURATION_HINT
    : Number.isFinite(value)
      ? 'write a whole number'
      : 'write a number in ordinary digits, within the range the key allows';
  return { path, message: `expected ${wanted}, got ${got}`, hint };
}

/** `topic: string` under `inputs:` is a natural shorthand; say what to write instead. */
function shorthandInputHint(path: DocPath, value: unknown): string | undefined {
  const isInput = path.length === 2 && path[0] === 'inputs';
  if (!isInput || typeof value !== 'string' || !(InputType.options as string[]).includes(value)) return undefined;
  return `declare an input as a mapping: ${String(path[1])}: { type: ${value} }`;
}

function typeHint(expected: string[], value: unknown): string | undefined {
  if (expected.includes('boolean') && typeof value === 'string' && /^(yes|no|on|off|y|n)$/i.test(value)) {
    return `YAML 1.2 reads ${value} as text: write true or false`;
  }
  if (expected.includes('number') && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return 'remove the quotes: a number is written without them';
  }
  if (expected.includes('array')) return 'write a list: [a, b] or one "- item" per line';
  if (expected.includes('object') || expected.includes('record')) {
    return 'write key: value pairs, indented under this key (or { key: value })';
  }
  if (expected.includes('string') && (typeof value === 'number' || typeof value === 'boolean')) {
    return `put it in quotes to make it text: "${String(value)}"`;
  }
  return undefined;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'a boolean (true or false)',
    object: 'a mapping (key: value)',
    array: 'a list',
    record: 'a mapping (key: value)',
  };
  return names[expected] ?? expected;
}

function formatExpectation(issue: z.core.$ZodIssueInvalidStringFormat): string {
  if (issue.format === 'regex') return issue.message;
  if (issue.format === 'url') return 'a URL such as http://localhost:11434/v1';
  return `a ${issue.format}`;
}

function formatHint(issue: z.core.$ZodIssueInvalidStringFormat, key: unknown): string {
  if (issue.pattern?.includes('ms|s|m|h')) return DURATION_HINT;
  if (key === 'name')
    return 'names are used in templates (steps.NAME.output): lower-case letters, digits and _ (and - for pipelines)';
  return DOCS_HINT;
}

function boundMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, value: unknown): string {
  const small = issue.code === 'too_small';
  const bound = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'array':
      return small
        ? `the list needs at least ${bound} item${Number(bound) === 1 ? '' : 's'}, got ${Array.isArray(value) ? value.length : 0}`
        : `the list may have at most ${bound} items`;
    case 'string':
      return small ? 'must not be empty' : `must be at most ${bound} characters long`;
    default: {
      const op = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return `expected a number ${op} ${bound}, got ${describeValue(value)}`;
    }
  }
}

/** What to do about a value below its bound: a list too short is filled, not "changed". */
function tooSmallHint(issue: { origin?: string; minimum?: unknown }, key: PropertyKey | undefined): string {
  if (issue.origin !== 'array') return 'change the value to one within the limit';
  if (key === 'steps')
    return 'a pipeline runs at least one step: add one under `steps:` (e.g. `- { name: hello, type: mock, prompt: "Hi" }`)';
  return `add at least ${String(issue.minimum)} item(s) to the list`;
}
