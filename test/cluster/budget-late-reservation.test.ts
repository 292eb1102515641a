// A retry after a billed attempt reserves its worst case anew in the run's ledger in Redis — a round
// trip. The attempt that asked can be given up before the answer lands (the run stopped, its own
// timeout fired): the reservation landing then must not be held — and renewed by this worker — for
// ever, nor the next attempt call unreserved. Reproduced deterministically: the retry's reserve
// reaches Redis only when the test lets it, after the abort.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunBudget } from '../../src/budget/run-budget.js';
import { budgetKeys, SharedBudgets } from '../../src/cluster/shared-budgets.js';
import type { Usage } from '../../src/providers/provider.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, request, StubProvider } from '../resilience/stub-provider.js';
import { REDIS_URL } from './harness.js';

// $1 per million input tokens, $10 per million output tokens.
const price = (_p: string, _m: string, usage: Usage) => (usage.inputTokens * 1 + usage.outputTokens * 10) / 1e6;
const call = request('x'.repeat(400), { maxTokens: 100 });
const BILLED = { inputTokens: 100, outputTokens: 100 }; // $0.0011
const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, jitter: false };

const opened: Array<{ budgets: SharedBudgets; redis: Redis }> = [];
afterEach(() => {
  for (const { budgets, redis } of opened.splice(0)) {
    budgets.close();
    redis.disconnect();
  }
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * The run's ledger, whose second reserve (the retry's) is asked (`asked`) but reaches Redis only
 * once `land` is resolved.
 */
function slowSecondReserve() {
  const prefix = `elxtest-late-${randomUUID()}`;
  const runId = randomUUID();
  const redis = new Redis(REDIS_URL);
  const budgets = new SharedBudgets(redis, prefix, 10_000, 60_000);
  opened.push({ budgets, redis });
  const shared = budgets.factory({ runId, limits: { maxCostUsd: 1 }, price, journaled: { costUsd: 0, tokens: 0 } });
  const asked = deferred();
  const land = deferred();
  let reserves = 0;
  const budget: RunBudget = {
    limits: shared.limits,
    get spent() {
      return shared.spent;
    },
    reserve: async (...args) => {
      reserves++;
      if (reserves === 2) {
        asked.resolve();
        await land.promise;
      }
      return shared.reserve(...args);
    },
    commit: (...args) => shared.commit(...args),
    release: (...args) => shared.release(...args),
  };
  return { budget, asked, land, keys: budgetKeys(prefix, runId), redis };
}

/** Settles are not awaited: the ledger once they reached Redis (it has no reservation left). */
async function settledLedger(redis: Redis, keys: [string, string, string]) {
  for (let i = 0; i < 50 && (await redis.zcard(keys[1])) > 0; i++) await sleep(10);
  const [cost, held] = await redis.hmget(keys[0], 'cost', 'rcost');
  return { reservations: await redis.zcard(keys[1]), cost: Number(cost), held: Number(held) };
}

function callerOf(provider: StubProvider, budget: RunBudget, timeoutMs?: number, bus = new EventBus()) {
  return createModelCaller({
    resolveProvider: () => provider,
    gates: new GateRegistry(bus),
    bus,
    runId: 'r',
    step: 's',
    price,
    budget,
    retry: RETRY,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

const billedFailure = () => new ProviderError('stub', 'invalid_response', 'malformed', { usage: BILLED });

describe("a retry's reservation that lands after its attempt was given up", () => {
  it('is released when the call was stopped meanwhile', async () => {
    const { budget, asked, land, keys, redis } = slowSecondReserve();
    const provider = new StubProvider(async () => {
      throw billedFailure();
    });
    const stop = new AbortController();
    const result = callerOf(provider, budget)(call, { signal: stop.signal, stream: false });
    await asked.promise; // attempt 2 waits for its reservation
    stop.abort();
    await expect(result).rejects.toMatchObject({ kind: 'aborted' });
    land.resolve(); // the reservation reaches Redis after the call ended
    await sleep(50);
    // The billed attempt counted; nothing held: the late reservation was given back.
    expect(await settledLedger(redis, keys)).toEqual({ reservations: 0, cost: 0.0011, held: 0 });
    expect(provider.calls).toBe(1);
  });

  it('is waited for by the next attempt (after a timeout), which then commits its answer on it', async () => {
    const { budget, asked, land, keys, redis } = slowSecondReserve();
    const provider = new StubProvider(async (n, signal) => {
      if (n === 1) throw billedFailure();
      if (signal.aborted) throw new ProviderError('stub', 'aborted', 'aborted');
      return answer('done', { inputTokens: 100, outputTokens: 10 }); // $0.0002
    });
    const bus = new EventBus();
    const third = deferred();
    bus.on('pipeline.provider.request', (e) => {
      if (e.attempt === 3) third.resolve();
    });
    const signal = new AbortController().signal;
    const result = callerOf(provider, budget, 50, bus)(call, { signal, stream: false });
    await asked.promise;
    await third.promise; // attempt 2 timed out waiting; attempt 3 starts, and must wait too
    land.resolve();
    expect((await result).text).toBe('done');
    // The billed attempt and the answer, committed on the reservation attempt 3 waited for.
    const ledger = await settledLedger(redis, keys);
    expect(ledger).toMatchObject({ reservations: 0, held: 0 });
    expect(ledger.cost).toBeCloseTo(0.0013, 12);
  });
});
