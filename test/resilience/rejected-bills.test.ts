// A paid call whose answer the cache does not keep — an answer the caller rejects (CallOptions.
// reusable: a refusal, a structured answer failing its schema), or a call failed after billed
// attempts — leaves its bill under the call's key (CallRecord.bills). Never an answer: the same
// call is asked of the provider again. But the same step (or batch item) making that call in
// another execution of the run — one that crashed before a record carried the bill — counts it as
// paid: a call of its own, recovered, in its stats and its budget at once. An accepted answer costs
// nothing more for it: no bill written, no lookup.
import { describe, expect, it } from 'vitest';
import { BudgetGuard } from '../../src/budget/budget-guard.js';
import { CallCache } from '../../src/journal/call-cache.js';
import { SqliteStore } from '../../src/journal/sqlite-store.js';
import type { ModelResponse, Usage } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { type CallStats, createModelCaller, type ModelCallerDeps, payerOf } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, request, StubProvider } from './stub-provider.js';

const price = (_p: string, _m: string, usage: Usage) => (usage.inputTokens + usage.outputTokens) / 1000;
const refusal = (): ModelResponse => ({ ...answer(''), refusal: 'I cannot' });
const reusable = (response: ModelResponse) => response.refusal === undefined;
const opts = () => ({ signal: new AbortController().signal, stream: false, reusable });

/** The caller of step `step` in execution `execution` of run-1. */
function caller(provider: StubProvider, cache: CallCache, execution: string, extra: Partial<ModelCallerDeps> = {}) {
  const stats: CallStats[] = [];
  const step = extra.step ?? 'summarize';
  const call = createModelCaller({
    resolveProvider: () => provider,
    gates: new GateRegistry(new EventBus()),
    bus: new EventBus(),
    runId: 'run-1',
    step,
    price,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, jitter: false },
    onCallFinished: (s) => stats.push(s),
    cache,
    payer: payerOf('run-1', step, execution),
    ...extra,
  });
  return { call, stats };
}

/** A cache over a SQLite journal (its SQL for bills), a new one per "process". */
function journal() {
  const store = new SqliteStore(':memory:');
  return { store, cache: () => new CallCache(store) };
}

describe('the bill of a rejected answer', () => {
  it('is never served, and is the same step’s paid call in another execution, once', async () => {
    const provider = new StubProvider(async (n) => (n === 1 ? refusal() : answer('fine')));
    const { store, cache } = journal();
    // e1 pays for the refusal and crashes before its step is journaled.
    const e1 = caller(provider, cache(), 'e1');
    expect((await e1.call(request('q'), opts())).refusal).toBe('I cannot');

    // e2 (another process: a cache of its own) makes the same call: asked of the provider again,
    // and e1's refusal is counted first, as a call of its own — in the budget too.
    const billed = new Set<string>();
    const budget = new BudgetGuard({ maxCostUsd: 1 }, price);
    const c2 = cache();
    const e2 = caller(provider, c2, 'e2', { budget, billedAlready: async (e) => billed.has(e) });
    expect((await e2.call(request('q'), opts())).text).toBe('fine');
    expect(provider.calls).toBe(2);
    expect(e2.stats).toEqual([
      expect.objectContaining({ recovered: true, paidIn: 'e1', cached: false, attempts: 0, costUsd: 0.015 }),
      expect.objectContaining({ cached: false, attempts: 1, costUsd: 0.015 }),
    ]);
    expect(e2.stats[1]?.recovered).toBeUndefined();
    expect(budget.spent.costUsd).toBeCloseTo(0.03, 12);

    // e2 crashes too, its answer's record written (behind: within 200 ms). e3 finds that answer (a
    // paid hit) and e1's bill kept beside it, each counted once.
    await c2.flush();
    const e3 = caller(provider, cache(), 'e3', { billedAlready: async (e) => billed.has(e) });
    expect((await e3.call(request('q'), opts())).text).toBe('fine');
    expect(provider.calls).toBe(2);
    expect(e3.stats).toEqual([
      expect.objectContaining({ recovered: true, paidIn: 'e1', cached: false, costUsd: 0.015 }),
      expect.objectContaining({ recovered: true, paidIn: 'e2', cached: true, costUsd: 0.015 }),
    ]);

    // Once a journaled record carries e1's bill, it is counted no more.
    billed.add('e1');
    const e4 = caller(provider, cache(), 'e4', { billedAlready: async (e) => billed.has(e) });
    await e4.call(request('q'), opts());
    expect(e4.stats).toEqual([expect.objectContaining({ recovered: true, paidIn: 'e2', cached: true })]);
    await store.close();
  });

  it('is not another step’s, nor this execution’s own', async () => {
    const provider = new StubProvider(async (n) => (n <= 2 ? refusal() : answer('fine')));
    const { store, cache } = journal();
    const shared = cache();
    const e1 = caller(provider, shared, 'e1');
    await e1.call(request('q'), opts());
    // The same execution calling again: its bill is in its own stats already.
    await e1.call(request('q'), opts());
    expect(e1.stats.map((s) => s.recovered)).toEqual([undefined, undefined]);
    // Another step of the run in another execution: not its bill, and no answer for it either.
    const other = caller(provider, cache(), 'e2', { step: 'other' });
    expect((await other.call(request('q'), opts())).text).toBe('fine');
    expect(other.stats).toEqual([expect.objectContaining({ cached: false, attempts: 1, costUsd: 0.015 })]);
    expect(provider.calls).toBe(3);
    await store.close();
  });

  it('of a call failed after billed attempts is kept too', async () => {
    const usage = { inputTokens: 20, outputTokens: 10 };
    const provider = new StubProvider(async (n) => {
      if (n === 1) throw new ProviderError('stub', 'invalid_response', 'unusable answer', { usage });
      return answer('fine');
    });
    const { store, cache } = journal();
    const e1 = caller(provider, cache(), 'e1');
    await expect(e1.call(request('q'), opts())).rejects.toThrow(/unusable/);
    expect(e1.stats[0]).toMatchObject({ costUsd: 0.03, usage });

    const e2 = caller(provider, cache(), 'e2');
    await e2.call(request('q'), opts());
    expect(e2.stats).toEqual([
      expect.objectContaining({ recovered: true, paidIn: 'e1', usage, costUsd: 0.03 }),
      expect.objectContaining({ cached: false, costUsd: 0.015 }),
    ]);
    await store.close();
  });

  it('costs an accepted answer nothing: no bill written, no lookup', async () => {
    const store = new SqliteStore(':memory:');
    const counts = { putBill: 0, getCall: 0 };
    const counted = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'putBill' || prop === 'getCall') {
          const method = Reflect.get(target, prop, receiver) as (...args: unknown[]) => unknown;
          return (...args: unknown[]) => {
            counts[prop]++;
            return method.apply(target, args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const provider = new StubProvider(async (n) => answer(`answer ${n}`));
    const e1 = caller(provider, new CallCache(counted), 'e1');
    for (let i = 0; i < 20; i++) await e1.call(request(`q${i}`), opts());
    expect(provider.calls).toBe(20);
    expect(counts).toEqual({ putBill: 0, getCall: 0 });
    await store.close();
  });
});
