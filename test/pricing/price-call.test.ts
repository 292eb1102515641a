import { describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetGuard } from '../../src/budget/budget-guard.js';
import { findPrice, priceCall } from '../../src/pricing/index.js';

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

  it("prices Anthropic's -0 aliases as the model they name (Opus 4 and Sonnet 4 are 4.0)", () => {
    // claude-opus-4-0 = claude-opus-4-20250514, claude-sonnet-4-0 = claude-sonnet-4-20250514.
    expect(priceCall('anthropic', 'claude-opus-4-0', usage)).toBeCloseTo(90);
    expect(priceCall('anthropic', 'claude-sonnet-4-0', short)).toBeCloseTo(1.8);
    expect(findPrice('anthropic', 'claude-opus-4-0')).toBe(findPrice('anthropic', 'claude-opus-4-20250514'));
    expect(findPrice('anthropic', 'claude-sonnet-4-0')).toBe(findPrice('anthropic', 'claude-sonnet-4-20250514'));
    // Through an override of the base id too.
    expect(priceCall('proxy', 'claude-opus-4-0', usage, { 'claude-opus-4': { input: 1, output: 2 } })).toBeCloseTo(3);
  });

  it('lets max_cost_usd stop a run on an alias as it stops the dated id', () => {
    const spend = (model: string): number => {
      const guard = new BudgetGuard({ maxCostUsd: 0.2 }, (provider, m, u) => priceCall(provider, m, u));
      const request = {
        provider: 'anthropic',
        model,
        messages: [{ role: 'user' as const, content: 'hi' }],
        maxTokens: 1000,
      };
      let calls = 0;
      try {
        for (; calls < 20; calls++) {
          const held = guard.reserve(request, 'each');
          const answer = { inputTokens: 1000, outputTokens: 1000 };
          guard.commit(held, answer, priceCall('anthropic', model, answer));
        }
      } catch (error) {
        if (!(error instanceof BudgetExceededError)) throw error;
      }
      expect(guard.unpricedCalls).toBe(0);
      return guard.spent.costUsd;
    };
    expect(spend('claude-opus-4-0')).toBeCloseTo(spend('claude-opus-4-20250514'));
    expect(spend('claude-opus-4-0')).toBeLessThanOrEqual(0.2);
  });

  it('prices the other vendor aliases as the table intends, and leaves other models unpriced', () => {
    expect(priceCall('anthropic', 'claude-3-7-sonnet-latest', usage)).toBeCloseTo(18);
    expect(priceCall('gemini', 'gemini-2.0-flash-001', usage)).toBeCloseTo(0.5);
    expect(priceCall('gemini', 'gemini-2.5-flash-preview-09-2025', usage)).toBeCloseTo(2.8);
    // Other models, or other versions, with no price of their own: unknown, not their neighbour's.
    for (const model of [
      'claude-3-5-sonnet-latest', // Sonnet 3.5 is not in the table
      'claude-opus-4-6',
      'claude-opus-4-00',
      'claude-opus-4-0-1',
      'chatgpt-4o-latest', // ChatGPT's model, priced apart from gpt-4o
      'gpt-5-chat-latest',
      'o3-pro',
      'o3-mini',
      'gemini-flash-latest', // a moving alias, not a table id
      'gemini-2.5-flash-image-preview',
    ]) {
      expect(priceCall('anthropic', model, usage), model).toBeNull();
    }
  });

  it('prices a snapshot that has its own price by it, never as its base model', () => {
    // OpenAI: gpt-4o-2024-05-13 is billed $5 / $15 per million, with no cached-input discount.
    expect(priceCall('openai', 'gpt-4o-2024-05-13', usage)).toBeCloseTo(20);
    const cached = { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 500_000 };
    expect(priceCall('openai', 'gpt-4o-2024-05-13', cached)).toBeCloseTo(5);
    // The other snapshots are gpt-4o's price.
    expect(priceCall('openai', 'gpt-4o-2024-08-06', usage)).toBeCloseTo(12.5);
    expect(priceCall('openai', 'gpt-4o-2024-11-20', usage)).toBeCloseTo(12.5);
    // An entry named exactly wins over an override of its base id; naming it overrides it.
    expect(priceCall('openai', 'gpt-4o-2024-05-13', usage, { 'gpt-4o': { input: 1, output: 1 } })).toBeCloseTo(20);
    expect(
      priceCall('openai', 'gpt-4o-2024-05-13', usage, { 'gpt-4o-2024-05-13': { input: 1, output: 1 } }),
    ).toBeCloseTo(2);
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
