// The holds of calls in flight add floats up and take them off again: 0.1 + 0.2 − 0.1 − 0.2 is not 0
// in binary floating point. The residue read as money "in flight" when nothing was, and refused a
// call that fit the budget exactly — or, for a call waiting on the calls in flight, would keep it
// waiting for ever. And a reservation settled twice must not free another call's hold.
import { describe, expect, it } from 'vitest';
import { BudgetGuard } from '../../src/budget/budget-guard.js';
import type { ModelRequest, Usage } from '../../src/providers/provider.js';
import { request } from '../resilience/stub-provider.js';

// The model's name is its worst case in dollars: calls of any cost, without arithmetic in the test.
const price = (_p: string, model: string, _u: Usage) => Number(model);
const costing = (usd: number): ModelRequest => request('x', { model: String(usd) });

describe('holds of calls in flight', () => {
  it('are back to nothing once every call has settled, whatever the float sums left', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.4 }, price);
    const a = guard.reserve(costing(0.1), 'a');
    const b = guard.reserve(costing(0.3), 'b');
    guard.release(a);
    guard.release(b); // 0.1 + 0.3 − 0.1 − 0.3 left 5.6e-17 held
    // A call of exactly the budget fits: nothing is spent, nothing in flight.
    expect(() => guard.reserve(costing(0.4), 'c')).not.toThrow();
  });

  it('say nothing is in flight when nothing is', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.35 }, price);
    const a = guard.reserve(costing(0.1), 'a');
    const b = guard.reserve(costing(0.2), 'b');
    guard.release(a);
    guard.release(b);
    expect(() => guard.reserve(costing(0.5), 'big')).toThrow(
      /: spent \$0 of max_cost_usd \$0\.35, and this call could cost up to \$0\.50$/,
    );
  });

  it('are freed once when a reservation is settled twice, not at the expense of another call', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.3 }, price);
    const a = guard.reserve(costing(0.1), 'a');
    guard.reserve(costing(0.1), 'b');
    guard.release(a);
    guard.release(a);
    // b still holds $0.10: $0.25 more would take the run to $0.35.
    expect(() => guard.reserve(costing(0.25), 'c')).toThrow(/\(\+ up to \$0\.10 in flight\)/);
  });
});
