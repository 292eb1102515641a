// A whole number as a person or a client writes it: decimal digits and nothing else. `Number()`
// alone reads '' and ' 7 ' as 0 and 7, '0x10' as 16, '1e3' as 1000, '+3' as 3 and '2.0' as 2 —
// none of which a flag's value, a `?limit=` or a Last-Event-ID meant. Shared by the CLI's flags and
// the HTTP API's query parameters and headers, so that both refuse the same text.

const DIGITS = /^[0-9]+$/;

/**
 * `text` as a whole number, when it is decimal digits only (no sign, space, point or exponent;
 * leading zeros allowed) and a safe integer; else undefined. The range is the caller's to check.
 */
export function decimalInteger(text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined;
  const n = Number(text);
  // Beyond 2^53 - 1 the number read is not the number written (it is rounded).
  return Number.isSafeInteger(n) ? n : undefined;
}
