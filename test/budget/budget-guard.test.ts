import { describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetGuard } from '../../src/budget/budget-guard.js';
import { estimateInputTokens, estimateUsage } from '../../src/budget/estimate.js';
import type { Usage } from '../../src/providers/provider.js';
import { request } from '../resilience/stub-provider.js';

// $1 per million input tokens, $10 per million output tokens; `unpriced` has no price.
const price = (_p: string, model: string, usage: Usage) =>
  model === 'unpriced' ? null : (usage.inputTokens * 1 + usage.outputTokens * 10) / 1e6;

describe('budget estimate', () => {
  it('counts a token per four characters of everything sent, and max_tokens of output', () => {
    const r = request('x'.repeat(400), { system: 'y'.repeat(40), maxTokens: 500 });
    expect(estimateInputTokens(r)).toBe(110);
    expect(estimateUsage(r)).toEqual({ inputTokens: 110, outputTokens: 500 });
    expect(estimateUsage(request('hi', { maxTokens: undefined })).outputTokens).toBe(4096);
  });

  it('counts a token per character of text that is not ASCII (CJK, Cyrillic…), not one per four', () => {
    // Tokenizers spend about a token per Chinese character: 1000 of them are ~1000 tokens, not 250.
    const chinese = '请总结这段文字的要点。'.repeat(100); // 1100 characters
    expect(estimateInputTokens(request(chinese))).toBe(1100);
    expect(estimateInputTokens(request(`abcd${'Привет'}`))).toBe(1 + 6);
    // So a max_tokens budget stops the call before it, rather than after it has spent 4× the estimate.
    const guard = new BudgetGuard({ maxTokens: 1000 }, price);
    expect(() => guard.reserve(request(chinese, { maxTokens: 100 }), 'summarize')).toThrow(/max_tokens 1000/);
  });
});

describe('BudgetGuard', () => {
  it('stops before the call that could exceed max_cost_usd, with what was spent and the limit', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.0025 }, price);
    const r = request('x'.repeat(400), { maxTokens: 100 }); // worst case 100 in + 100 out = $0.0011
    guard.commit(guard.reserve(r, 'one'), { inputTokens: 100, outputTokens: 100 }, 0.0011);
    guard.commit(guard.reserve(r, 'two'), { inputTokens: 100, outputTokens: 10 }, 0.0002);
    expect(guard.spent.costUsd).toBeCloseTo(0.0013);
    const error = (() => {
      try {
        guard.reserve(r, 'three');
        guard.reserve(r, 'four');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as Error).message).toMatch(
      /step "four".*spent \$0\.0013 \(\+ up to \$0\.0011 in flight\) of max_cost_usd \$0\.0025/,
    );
  });

  it('holds the worst case of calls in flight and frees it when a call fails', () => {
    const guard = new BudgetGuard({ maxTokens: 250 }, price);
    const r = request('x'.repeat(40), { maxTokens: 100 }); // 10 + 100 tokens
    const first = guard.reserve(r, 'a');
    guard.reserve(r, 'b');
    expect(() => guard.reserve(r, 'c')).toThrow(/max_tokens 250/);
    guard.release(first);
    expect(() => guard.reserve(r, 'c')).not.toThrow();
  });

  it('counts what a resumed run had already spent', () => {
    const guard = new BudgetGuard({ maxCostUsd: 1 }, price, { costUsd: 0.9999, tokens: 0 });
    expect(() => guard.reserve(request('x', { maxTokens: 1000 }), 'next')).toThrow(BudgetExceededError);
  });

  it('counts a paid hit (a call an earlier execution paid) as spent, without refusing it, leaving holds alone', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.002 }, price);
    const r = request('x'.repeat(400), { maxTokens: 100 }); // worst case $0.0011
    const inFlight = guard.reserve(r, 'a');
    // Past the limit: it was paid already, so it is counted, not refused.
    guard.countRecovered({ inputTokens: 100, outputTokens: 100 }, 0.0025);
    guard.countRecovered({ inputTokens: 1, outputTokens: 1 }, null);
    expect(guard.spent).toEqual({ costUsd: 0.0025, tokens: 202 });
    expect(guard.unpricedCalls).toBe(1);
    // The call after it is refused for it; the call in flight still holds its worst case.
    expect(() => guard.reserve(r, 'b')).toThrow(/spent \$0\.0025 \(\+ up to \$0\.0011 in flight\)/);
    guard.release(inFlight);
    expect(() => guard.reserve(r, 'b')).toThrow(/spent \$0\.0025 of/);
  });

  it('lets unpriced calls through the cost limit but counts them', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0 }, price);
    const r = request('x', { model: 'unpriced' });
    guard.commit(guard.reserve(r, 'a'), { inputTokens: 1, outputTokens: 1 }, null);
    expect(guard.unpricedCalls).toBe(1);
    expect(guard.spent.tokens).toBe(2);
  });

  it('states money as the CLI does (`$0` when nothing was paid, never `$0.0000`) and says how to go on', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.5 }, price);
    const error = (() => {
      try {
        guard.reserve(request('x'.repeat(400), { maxTokens: 100_000 }), 'big'); // worst case $1.0001
      } catch (e) {
        return e as BudgetExceededError;
      }
    })();
    expect(error?.message).toMatch(/: spent \$0 of max_cost_usd \$0\.50, and this call could cost up to \$1\.00$/);
    expect(error?.hint).toContain('`elexirion resume RUN_ID --max-cost USD`');
  });
});
