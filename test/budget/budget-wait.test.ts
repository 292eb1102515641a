// A call refused only because calls in flight hold their worst cases waits (when it has a signal)
// for them to settle, then fits or is refused for what was really spent. Without a signal it is
// refused at once, as before: a retry's reservation (inside a bulkhead slot) must not wait.
import { describe, expect, it } from 'vitest';
import { BudgetExceededError, BudgetGuard, type BudgetReservation } from '../../src/budget/budget-guard.js';
import type { Usage } from '../../src/providers/provider.js';
import { request } from '../resilience/stub-provider.js';

// $10 per million output tokens, input free: a call capped at 100 output tokens has a worst case of $0.001.
const price = (_p: string, _m: string, usage: Usage) => (usage.outputTokens * 10) / 1e6;
const call = request('x', { maxTokens: 100 });
const small: Usage = { inputTokens: 1, outputTokens: 10 }; // $0.0001

/** Settles on the next turns of the event loop: whether `promise` has settled, and how. */
async function state<T>(promise: Promise<T>): Promise<'pending' | 'resolved' | 'rejected'> {
  let result: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (result = 'resolved'),
    () => (result = 'rejected'),
  );
  await new Promise((r) => setTimeout(r, 0));
  return result;
}

describe('a call refused only for the calls in flight', () => {
  it('waits for them, and goes out once their real cost leaves room', async () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.0025 }, price);
    const a = guard.reserve(call, 'a');
    const b = guard.reserve(call, 'b');
    const waiting = guard.reserve(call, 'c', undefined, new AbortController().signal);
    expect(waiting).toBeInstanceOf(Promise);
    expect(await state(waiting as Promise<BudgetReservation>)).toBe('pending');
    guard.commit(a, small, 0.0001);
    const c = await waiting;
    expect(c.costUsd).toBeCloseTo(0.001);
    guard.release(b);
    guard.release(c);
    expect(guard.spent.costUsd).toBeCloseTo(0.0001);
  });

  it('is refused for what was spent when the calls in flight cost their worst', async () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.0025 }, price);
    const a = guard.reserve(call, 'a');
    const b = guard.reserve(call, 'b');
    const waiting = guard.reserve(call, 'c', undefined, new AbortController().signal) as Promise<BudgetReservation>;
    guard.commit(a, { inputTokens: 0, outputTokens: 100 }, 0.001);
    expect(await state(waiting)).toBe('pending'); // 0.001 spent + 0.001 held + 0.001 > 0.0025, yet it fits once b settles
    guard.commit(b, { inputTokens: 0, outputTokens: 100 }, 0.001);
    await expect(waiting).rejects.toThrow(/step "c".*spent \$0\.0020 of max_cost_usd \$0\.0025/);
  });

  it('waits under max_tokens as under max_cost_usd', async () => {
    const guard = new BudgetGuard({ maxTokens: 250 }, price);
    const a = guard.reserve(call, 'a'); // 1 + 100 tokens
    guard.reserve(call, 'b');
    const waiting = guard.reserve(call, 'c', undefined, new AbortController().signal) as Promise<BudgetReservation>;
    expect(await state(waiting)).toBe('pending');
    guard.commit(a, small, 0.0001);
    await expect(waiting).resolves.toMatchObject({ tokens: 101 });
  });

  it('is refused at once when even the calls in flight settling for free would not make room', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.0025 }, price, { costUsd: 0.002, tokens: 0 });
    guard.reserve(request('x', { maxTokens: 10 }), 'a');
    expect(() => guard.reserve(call, 'b', undefined, new AbortController().signal)).toThrow(BudgetExceededError);
  });

  it('is refused at once without a signal (a retry, a Claude Code session)', () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.0025 }, price);
    guard.reserve(call, 'a');
    guard.reserve(call, 'b');
    expect(() => guard.reserve(call, 'c')).toThrow(/\(\+ up to \$0\.0020 in flight\)/);
  });

  it('stops waiting when its signal fires, holding nothing', async () => {
    const guard = new BudgetGuard({ maxCostUsd: 0.0025 }, price);
    const a = guard.reserve(call, 'a');
    guard.reserve(call, 'b');
    const stop = new AbortController();
    const waiting = guard.reserve(call, 'c', undefined, stop.signal) as Promise<BudgetReservation>;
    stop.abort(new Error('run stopped'));
    await expect(waiting).rejects.toThrow(/cancelled/);
    // Not admitted later behind anyone's back: a release leaves room for exactly one more call.
    guard.release(a);
    expect(() => guard.reserve(call, 'd')).not.toThrow();
    expect(() => guard.reserve(call, 'e')).toThrow(BudgetExceededError);
  });
});
