// The shared budget ledger on the real Redis, in-process: two "workers" (two SharedBudgets on two
// connections, one prefix) draw on one run's budget — as the run's worker and a chunk's worker do.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetExceededError, type BudgetLimits, type BudgetSpent } from '../../src/budget/budget-guard.js';
import type { RunBudget } from '../../src/budget/run-budget.js';
import { budgetKeys, SharedBudgets } from '../../src/cluster/shared-budgets.js';
import type { Usage } from '../../src/providers/provider.js';
import { GateRegistry } from '../../src/resilience/gate-registry.js';
import { createModelCaller } from '../../src/resilience/model-caller.js';
import { EventBus } from '../../src/telemetry/event-bus.js';
import { answer, request, StubProvider } from '../resilience/stub-provider.js';
import { REDIS_URL } from './harness.js';

// $1 per million input tokens, $10 per million output tokens.
const price = (_p: string, _m: string, usage: Usage) => (usage.inputTokens * 1 + usage.outputTokens * 10) / 1e6;
/** 100 tokens in (400 characters) + at most 100 out: a worst case of $0.0011 and 200 tokens. */
const call = request('x'.repeat(400), { maxTokens: 100 });
const NOTHING: BudgetSpent = { costUsd: 0, tokens: 0 };

const open: { budgets: SharedBudgets; redis: Redis }[] = [];
afterEach(() => {
  for (const { budgets, redis } of open.splice(0)) {
    budgets.close();
    redis.disconnect();
  }
});

function worker(prefix: string, leaseMs = 10_000): SharedBudgets {
  const redis = new Redis(REDIS_URL);
  const budgets = new SharedBudgets(redis, prefix, leaseMs, 60_000);
  open.push({ budgets, redis });
  return budgets;
}

function ledger() {
  return { prefix: `elxtest-budget-${randomUUID()}`, runId: randomUUID() };
}

/** The run's worker: it knows what the journal says was spent. */
function runWorker(budgets: SharedBudgets, runId: string, limits: BudgetLimits, journaled = NOTHING): RunBudget {
  return budgets.factory({ runId, limits, price, journaled });
}

/** A chunk's worker: it reads the journal only if it finds no ledger. */
function chunkWorker(budgets: SharedBudgets, runId: string, limits: BudgetLimits, read = async () => NOTHING) {
  return budgets.factory({ runId, limits, price, journaled: read });
}

async function refusal(budget: RunBudget, step: string): Promise<Error> {
  const error = await Promise.resolve(budget.reserve(call, step)).then(
    () => new Error('the call was not refused'),
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(BudgetExceededError);
  return error;
}

/** Commits and releases are not awaited: wait until Redis has what was spent. */
async function spentInRedis(prefix: string, runId: string, cost: number): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    for (let i = 0; i < 100; i++) {
      if (Number(await redis.hget(budgetKeys(prefix, runId)[0], 'cost')) === cost) return;
      await sleep(10);
    }
    throw new Error(`the ledger never reached $${cost}`);
  } finally {
    redis.disconnect();
  }
}

describe('shared budgets', () => {
  it('counts the calls in flight on every worker, and a commit replaces the estimate', async () => {
    const { prefix, runId } = ledger();
    const limits = { maxCostUsd: 0.0025 };
    const a = runWorker(worker(prefix), runId, limits);
    const b = chunkWorker(worker(prefix), runId, limits);
    const first = await a.reserve(call, 'fan[0]');
    await b.reserve(call, 'fan[1]');
    // Each worker alone would still have room for $0.0011; together they hold $0.0022 of $0.0025.
    expect((await refusal(b, 'fan[2]')).message).toMatch(
      /step "fan\[2\]" stopped before calling stub\/stub-model: spent \$0 \(\+ up to \$0\.0022 in flight\) of max_cost_usd \$0\.0025, and this call could cost up to \$0\.0011/,
    );
    expect((await refusal(a, 'fan[3]')).message).toMatch(/\(\+ up to \$0\.0022 in flight\)/);

    a.commit(first, { inputTokens: 100, outputTokens: 10 }, 0.0002); // it cost less than its worst case
    await spentInRedis(prefix, runId, 0.0002);
    await b.reserve(call, 'fan[2]'); // 0.0002 spent + 0.0011 in flight + 0.0011 fits
    expect((await refusal(a, 'fan[3]')).message).toMatch(/spent \$0\.0002 \(\+ up to \$0\.0022 in flight\)/);
    expect(a.spent.costUsd).toBe(0.0002);
  });

  it('gives a dead worker’s reservations back when their lease expires, and keeps renewing a live one’s', async () => {
    const { prefix, runId } = ledger();
    const limits = { maxTokens: 500 }; // two calls of 200 tokens, not three
    const live = chunkWorker(worker(prefix, 300), runId, limits);
    const dyingWorker = worker(prefix, 300);
    const dying = chunkWorker(dyingWorker, runId, limits);
    await live.reserve(call, 'fan[0]');
    await dying.reserve(call, 'fan[1]');
    const other = chunkWorker(worker(prefix, 300), runId, limits);
    expect((await refusal(other, 'fan[2]')).message).toMatch(
      /used 0 tokens \(\+ up to 400 in flight\) of max_tokens 500/,
    );

    dyingWorker.close(); // it stops renewing, as a killed process does
    await sleep(900); // three leases: the live worker renewed its reservation eight times meanwhile
    await other.reserve(call, 'fan[2]');
    expect((await refusal(other, 'fan[3]')).message).toMatch(/\(\+ up to 400 in flight\)/);
  });

  it('counts what a call spent even when its commit comes after its reservation expired', async () => {
    const { prefix, runId } = ledger();
    const limits = { maxCostUsd: 0.003 };
    const lateWorker = worker(prefix, 200);
    const late = chunkWorker(lateWorker, runId, limits);
    const reservation = await late.reserve(call, 'fan[0]');
    lateWorker.close();
    await sleep(500);
    const other = chunkWorker(worker(prefix), runId, limits);
    await other.release(await other.reserve(call, 'fan[1]')); // expires the late reservation
    late.commit(reservation, { inputTokens: 100, outputTokens: 100 }, 0.0011);
    await spentInRedis(prefix, runId, 0.0011);
    await other.reserve(call, 'fan[2]');
    expect((await refusal(other, 'fan[3]')).message).toMatch(/spent \$0\.0011 \(\+ up to \$0\.0011 in flight\)/);
  });

  it('starts from the journal: a chunk seeds a missing ledger once, the run’s worker raises it to its totals', async () => {
    const { prefix, runId } = ledger();
    const limits = { maxCostUsd: 0.005 };
    let reads = 0;
    const chunk = chunkWorker(worker(prefix), runId, limits, async () => {
      reads++;
      await sleep(20);
      return { costUsd: 0.002, tokens: 1000 };
    });
    await Promise.all([chunk.reserve(call, 'fan[0]'), chunk.reserve(call, 'fan[1]')]);
    expect(reads).toBe(1);
    expect(chunk.spent.costUsd).toBe(0.002);

    // A resume after --force forgot journaled steps: what the ledger counted stays counted.
    const lower = runWorker(worker(prefix), runId, limits, { costUsd: 0.0001, tokens: 0 });
    expect((await refusal(lower, 'a')).message).toMatch(/spent \$0\.0020 \(\+ up to \$0\.0022 in flight\)/);
    // An attempt on one machine spent more than the ledger knows: the journal's totals win.
    const higher = runWorker(worker(prefix), runId, { maxCostUsd: 1 }, { costUsd: 0.004, tokens: 1000 });
    await higher.reserve(call, 'b');
    expect((await refusal(chunk, 'fan[2]')).message).toMatch(/spent \$0\.0040 \(\+ up to \$0\.0033 in flight\)/);
  });

  it('is waited for by the model caller, which makes no call the budget refuses', async () => {
    const { prefix, runId } = ledger();
    const provider = new StubProvider(async () => answer('done', { inputTokens: 100, outputTokens: 100 }));
    const budget = chunkWorker(worker(prefix), runId, { maxCostUsd: 0.002 });
    const bus = new EventBus();
    const caller = createModelCaller({
      resolveProvider: () => provider,
      gates: new GateRegistry(bus),
      bus,
      runId,
      step: 'fan[0]',
      price,
      budget,
    });
    const opts = { signal: new AbortController().signal, stream: false };
    expect((await caller(call, opts)).text).toBe('done');
    await spentInRedis(prefix, runId, 0.0011);
    await expect(caller(call, opts)).rejects.toThrow(/spent \$0\.0011 of max_cost_usd \$0\.0020/);
    expect(provider.calls).toBe(1);
  });
});
