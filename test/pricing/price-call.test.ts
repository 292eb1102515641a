import { describe, expect, it } from 'vitest';
import { priceCall } from '../../src/pricing/index.js';

const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };

describe('priceCall', () => {
  it('prices input and output per million tokens', () => {
    expect(priceCall('anthropic', 'claude-sonnet-4-5', usage)).toBeCloseTo(18);
    expect(priceCall('gemini', 'gemini-2.5-flash', usage)).toBeCloseTo(2.8);
    expect(priceCall('openai', 'gpt-4o-mini', { inputTokens: 2000, outputTokens: 500 })).toBeCloseTo(0.0006);
  });

  it('prices cache reads and writes apart from the rest of the prompt', () => {
    const cached = { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 600_000, cacheWriteTokens: 400_000 };
    // 0 uncached + 0.6M × 0.30 + 0.4M × 3.75
    expect(priceCall('anthropic', 'claude-sonnet-4-5', cached)).toBeCloseTo(0.18 + 1.5);
  });

  it('matches dated and versioned ids to their base model, the longest first', () => {
    expect(priceCall('anthropic', 'claude-sonnet-4-5-20250929', usage)).toBeCloseTo(18);
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
