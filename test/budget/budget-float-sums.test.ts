// Money adds up in binary floating point: a thousand calls of $0.001 make 0.9990000000000008 before
// the last one, which was then refused under max_cost_usd 1 although the run could pay for it.
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetGuard } from '../../src/budget/budget-guard.js';
import type { Usage } from '../../src/providers/provider.js';
import { request } from '../resilience/stub-provider.js';

const tenthOfACent = (_p: string, _m: string, _u: Usage) => 0.001;

describe('a budget over thousands of calls', () => {
  it('admits every call the limit pays for exactly, and refuses the one after', () => {
    const guard = new BudgetGuard({ maxCostUsd: 1 }, tenthOfACent);
    const call = request('x');
    let made = 0;
    try {
      for (; made < 1001; made++) guard.commit(guard.reserve(call, 'each'), { inputTokens: 1, outputTokens: 1 }, 0.001);
    } catch (error) {
      expect(error).toBeInstanceOf(BudgetExceededError);
    }
    expect(made).toBe(1000);
  });

  it('admits calls whose worst cases add up to the limit exactly', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.3 }, (_p, model) => Number(model));
    guard.reserve(request('x', { model: '0.1' }), 'a');
    // 0.1 + 0.2 is 0.30000000000000004 in floating point.
    expect(() => guard.reserve(request('x', { model: '0.2' }), 'b')).not.toThrow();
    expect(() => guard.reserve(request('x', { model: '0.0001' }), 'c')).toThrow(BudgetExceededError);
  });
});
