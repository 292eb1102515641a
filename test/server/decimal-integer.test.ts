// One reading of "a whole number" for the CLI's flags (option-values.ts) and the API's `limit` and
// Last-Event-ID (routes/runs-list.ts, routes/event-id.ts): decimal digits only, a safe integer.
import { describe, expect, it } from 'vitest';
import { numberOption } from '../../src/cli/option-values.js';
import { decimalInteger } from '../../src/decimal-integer.js';

describe('decimalInteger', () => {
  it.each([
    ['0', 0],
    ['7', 7],
    ['007', 7],
    ['1000', 1000],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('reads %j as %d', (text, n) => {
    expect(decimalInteger(text)).toBe(n);
  });

  it.each([
    '',
    ' ',
    ' 7',
    '7 ',
    '+3',
    '-1',
    '2.0',
    '.5',
    '1e2',
    '0x10',
    '0b1',
    'Infinity',
    'NaN',
    'abc',
    '٣', // an Arabic-Indic digit: a digit, not a decimal one
    '9007199254740992', // 2^53: read rounded, not as written
    '9'.repeat(400), // Infinity
  ])('reads no whole number in %j', (text) => {
    expect(decimalInteger(text)).toBeUndefined();
  });
});

describe('numberOption, reading through it', () => {
  it('refuses a whole number past 2^53 - 1 with no max of its own, as before', () => {
    expect(() => numberOption('--limit', '9007199254740992', { expected: 'a count', min: 1 })).toThrow(
      '--limit "9007199254740992" is not a count',
    );
    expect(numberOption('--limit', '9007199254740991', { expected: 'a count', min: 1 })).toBe(Number.MAX_SAFE_INTEGER);
  });
});
