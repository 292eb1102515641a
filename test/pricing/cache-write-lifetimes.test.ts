// Anthropic bills a prompt-cache write by the cache's lifetime: a 5-minute write 1.25 × the input
// price (the table's cacheWrite), a 1-hour write 2 ×. Usage says which part was 1-hour
// (cacheWrite1hTokens, a part of cacheWriteTokens); without it every write is a 5-minute one.
import { describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/index.js';
import { addUsage } from '../../src/providers/usage.js';

// Claude Sonnet 4.5: input $3, 5-minute write $3.75, 1-hour write $6 per million.
const writes = { inputTokens: 100_000, outputTokens: 0, cacheWriteTokens: 100_000 };

describe('cache writes priced by their lifetime', () => {
  it('prices 1-hour writes at twice the input price, the rest of the writes at the 5-minute rate', () => {
    expect(priceCall('anthropic', 'claude-sonnet-4-5', { ...writes, cacheWrite1hTokens: 100_000 })).toBeCloseTo(0.6);
    // 0.04M × $6 + 0.06M × $3.75
    expect(priceCall('anthropic', 'claude-sonnet-4-5', { ...writes, cacheWrite1hTokens: 40_000 })).toBeCloseTo(
      0.24 + 0.225,
    );
  });

  it('keeps the price unchanged when the usage does not split the writes', () => {
    expect(priceCall('anthropic', 'claude-sonnet-4-5', writes)).toBeCloseTo(0.375);
    expect(priceCall('anthropic', 'claude-sonnet-4-5', { ...writes, cacheWrite1hTokens: 0 })).toBeCloseTo(0.375);
  });

  it('at the long-context rate, a 1-hour write is twice that rate’s input price', () => {
    // Above 200k prompt tokens Sonnet 4.5 costs $6 in: a 1-hour write $12 per million.
    const long = { inputTokens: 300_000, outputTokens: 0, cacheWriteTokens: 100_000, cacheWrite1hTokens: 100_000 };
    expect(priceCall('anthropic', 'claude-sonnet-4-5', long)).toBeCloseTo(0.2 * 6 + 0.1 * 12);
  });

  it('never counts more 1-hour writes than writes', () => {
    const odd = { inputTokens: 100_000, outputTokens: 0, cacheWriteTokens: 10_000, cacheWrite1hTokens: 50_000 };
    expect(priceCall('anthropic', 'claude-sonnet-4-5', odd)).toBeCloseTo(0.09 * 3 + 0.01 * 6);
  });

  it('an override prices 1-hour writes at twice its input price', () => {
    const prices = { 'claude-haiku-4-5': { input: 2, output: 10, cache_write: 2.5 } };
    const u = { inputTokens: 1_000_000, outputTokens: 0, cacheWriteTokens: 1_000_000, cacheWrite1hTokens: 500_000 };
    expect(priceCall('anthropic', 'claude-haiku-4-5', u, prices)).toBeCloseTo(0.5 * 4 + 0.5 * 2.5);
  });

  it('sums the 1-hour writes of several calls, as their writes', () => {
    const one = { inputTokens: 10, outputTokens: 1, cacheWriteTokens: 6, cacheWrite1hTokens: 4 };
    const other = { inputTokens: 10, outputTokens: 1, cacheWriteTokens: 5 };
    expect(addUsage(one, other)).toEqual({
      inputTokens: 20,
      outputTokens: 2,
      cacheWriteTokens: 11,
      cacheWrite1hTokens: 4,
    });
    expect(addUsage(other, other)).not.toHaveProperty('cacheWrite1hTokens');
  });
});
