// A run's result formats each step's start and finish; consecutive steps share a millisecond by the
// dozen, so the last formatting is reused — and must always be exactly what Date would print.
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/engine/run-result.js';

describe('isoTime', () => {
  it('is new Date(ms).toISOString() for every instant, repeated or not', () => {
    const base = Date.UTC(2026, 10, 29, 9, 30);
    const instants = [base, base, base + 1, base, base + 1000, base + 1000, 0, -1, 8.64e15];
    for (const ms of instants) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('refuses an instant that is no date, as Date does', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
