import { describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/index.js';

const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
// Under the 200k-token prompt where some models' long-context rate starts.
const short = { inputTokens: 100_000, outputTokens: 100_000 };

describe('priceCall', () => {
  it('prices input and output per million tokens', () => {
    expect(priceCall('anthropic', 'claude-sonnet-4-5', short)).toBeCloseTo(1.8);
    expect(priceCall('gemini', 'gemini-2.5-flash', usage)).toBeCloseTo(2.8);
    expect(priceCall('openai', 'gpt-4o-mini', { inputTokens: 2000, outputTokens: 500 })).toBeCloseTo(0.0006);
  });

  it('prices cache reads and writes apart from the rest of the prompt', () => {
    const cached = { inputTokens: 100_000, outputTokens: 0, cacheReadTokens: 60_000, cacheWriteTokens: 40_000 };
    // 0 uncached + 0.06M × 0.30 + 0.04M × 3.75
    expect(priceCall('anthropic', 'claude-sonnet-4-5', cached)).toBeCloseTo(0.018 + 0.15);
  });

  it('prices a prompt above 200k tokens at the long-context rate, where the vendor has one', () => {
    const long = { inputTokens: 250_000, outputTokens: 10_000 };
    // Gemini 2.5 Pro: $2.50 in, $15 out per million above 200k (not $1.25 and $10).
    expect(priceCall('gemini', 'gemini-2.5-pro', long)).toBeCloseTo(0.25 * 2.5 + 0.01 * 15);
    // Claude Sonnet 4.5 (1M context): $6 in, $22.50 out, cache reads $0.60 — the cached tokens count.
    const cached = { inputTokens: 250_000, outputTokens: 10_000, cacheReadTokens: 150_000 };
    expect(priceCall('anthropic', 'claude-sonnet-4-5-20250929', cached)).toBeCloseTo(
      0.1 * 6 + 0.15 * 0.6 + 0.01 * 22.5,
    );
    // At 200k or less, the standard rate; a model without a tier keeps its one price.
    expect(priceCall('gemini', 'gemini-2.5-pro', { inputTokens: 200_000, outputTokens: 0 })).toBeCloseTo(0.25);
    expect(priceCall('gemini', 'gemini-2.5-flash', long)).toBeCloseTo(0.25 * 0.3 + 0.01 * 2.5);
  });

  it('matches dated and versioned ids to their base model, the longest first', () => {
    expect(priceCall('anthropic', 'claude-sonnet-4-5-20250929', short)).toBeCloseTo(1.8);
    expect(priceCall('anthropic', 'claude-opus-4-1-20250805', usage)).toBeCloseTo(90);
    expect(priceCall('openai', 'gpt-4o-mini-2024-07-18', usage)).toBeCloseTo(0.75);
    expect(priceCall('gemini', 'models/gemini-2.5-flash-lite', usage)).toBeCloseTo(0.5);
    expect(priceCall('anthropic', 'claude-3-5-haiku-latest', usage)).toBeCloseTo(4.8);
  });

  it('returns null, never 0, for a model it does not know', () => {
    expect(priceCall('ollama', 'llama3.2', usage)).toBeNull();
    expect(priceCall('anthropic', 'claude-opus-4-6', usage)).toBeNull();
    expect(priceCall('openai', 'gpt-4o-audio-preview', usage)).toBeNull();
  });

  it('lets the pipeline override and add prices', () => {
    const overrides = { 'llama3.2': { input: 0, output: 0 }, 'gpt-4o': { input: 1, output: 1 } };
    expect(priceCall('ollama', 'llama3.2', usage, overrides)).toBe(0);
    expect(priceCall('openai', 'gpt-4o-2024-08-06', usage, overrides)).toBeCloseTo(2);
  });

  it('counts mock calls as free', () => {
    expect(priceCall('mock', 'anything', usage)).toBe(0);
  });
});
