import type { Input } from './schema.js';

export type InputType = Input['type'];

/** Whether a value has the declared input type (JSON-shaped data, as YAML and JSON produce it). */
export function matchesInputType(value: unknown, type: InputType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      // Past 2^53 a double holds no longer every whole number: 12345678901234567890 reads as …7000.
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

/**
 * An integer past ±(2^53 - 1), which a double does not hold exactly: `--input id=12345678901234567890`
 * became 12345678901234567000 and the run went on with it. Refused (matchesInputType), and told so.
 */
export function isUnsafeInteger(value: unknown, type: InputType): boolean {
  return type === 'integer' && typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value);
}

/** What is wrong with such an integer, `written` as it was given, read as `value`. */
export function unsafeIntegerProblem(written: string, value: number): string {
  const becomes = written === String(value) ? '' : ` (it would become ${value})`;
  return `a whole number past ±${Number.MAX_SAFE_INTEGER}, which a number does not hold exactly${becomes}`;
}

export const UNSAFE_INTEGER_HINT = 'declare the input `type: string` to pass such a number (an id, say) as text';

/** A number as people write it: `3`, `-2`, `0.5`, `.5`, `1e3` — not hexadecimal, octal or binary. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A value typed in on the command line (`--input n=3`) is a string; read it as the declared type.
 * Returns the value unchanged when it cannot be read so (the type check then reports it).
 */
export function coerceInput(value: unknown, type: InputType): unknown {
  if (typeof value !== 'string' || type === 'string') return value;
  const text = value.trim();
  switch (type) {
    case 'number':
    case 'integer':
      // Decimal notation only: Number() would also read `0x3`, `0b11` and `0o7` (and `''` as 0).
      return DECIMAL.test(text) && Number.isFinite(Number(text)) ? Number(text) : value;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : value;
    case 'array':
    case 'object':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return value;
      }
  }
}

export const INPUT_TYPE_EXAMPLES: Record<InputType, string> = {
  string: 'any text',
  number: 'a number such as 3 or 0.5',
  integer: 'a whole number such as 3',
  boolean: 'true or false',
  array: 'a JSON list such as ["a","b"]',
  object: 'a JSON object such as {"k":"v"}',
};
