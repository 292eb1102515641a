// Numbers given as flag values, read strictly. `Number()` reads '' and '  ' as 0, '0x10' as 16 and
// '1e3' as 1000: `serve --port "$PORT"` with PORT unset would listen on a random port, `--grace ""`
// would give runs no grace at all, `run --max-cost "$BUDGET"` would stop a run before its first
// call. A flag's number is written in decimal digits (and, where fractions make sense, one point),
// within its range; anything else is a usage mistake (exit 2) that names the flag and the value.
import { decimalInteger } from '../decimal-integer.js';
import { UsageError } from '../errors.js';

const DECIMAL = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

export interface NumberOption {
  /** What the value must be, after "is not": `a port number (0 to 65535)`. */
  expected: string;
  min: number;
  max?: number;
  /** Fractions allowed (`2.5`); otherwise a whole number. */
  fractions?: boolean;
  /** How to write it right, when the value is not empty: `e.g. --max-cost 2.50`. */
  hint?: string;
}

/** The number `value` of `flag`, or a UsageError naming both. */
export function numberOption(flag: string, value: string, option: NumberOption): number {
  const n = (option.fractions ? decimalFraction(value) : decimalInteger(value)) ?? Number.NaN;
  if (Number.isFinite(n) && n >= option.min && n <= (option.max ?? Number.MAX_SAFE_INTEGER)) return n;
  const hint =
    value.trim() === '' ? `the value is empty: a variable meant to hold it (${flag} "$VAR") may be unset` : option.hint;
  throw new UsageError(`${flag} ${JSON.stringify(value)} is not ${option.expected}`, hint);
}

/** `value` as a number with digits and at most one point (`2.5`, `.5`, `3.`); else undefined. */
function decimalFraction(value: string): number | undefined {
  return DECIMAL.test(value) ? Number(value) : undefined;
}

/** The largest delay a Node timer takes (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** `--max-cost USD` (run, resume): an amount of USD, 0 or more; undefined when not given. */
export function maxCostOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return numberOption('--max-cost', value, {
    expected: 'an amount of USD',
    min: 0,
    fractions: true,
    hint: 'e.g. --max-cost 2.50',
  });
}

/** A repeatable flag's values, in order (`-i a=1 -i b=2`): commander's parser for it. */
export function collectInput(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
